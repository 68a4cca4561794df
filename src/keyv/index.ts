/**
 * `cachekit/keyv`: a Keyv storage adapter, so Keyv, cache-manager and cacheable can keep their
 * entries in a cachekit cache. Needs the `keyv` package (a peer dependency).
 */
export { KeyvCachekit, type KeyvCachekitOptions, keyvStore } from './adapter.js'
export { type CreateKeyvOptions, createKeyv } from './create-keyv.js'
export { KeyvBackedStore, type KeyvBackedStoreOptions, type KeyvLike, keyvBackedStore } from './from-keyv.js'
