import { Keyv, type KeyvOptions } from 'keyv'
import type { Cache } from '../cache/index.js'
import { KeyvCachekit } from './adapter.js'

/** Keyv's options (without `store`, which is the cache) for {@link createKeyv}. */
export type CreateKeyvOptions = Omit<KeyvOptions, 'store'>

/**
 * A Keyv over a cachekit cache, with two things `new Keyv({ store: new KeyvCachekit(cache) })`
 * lacks:
 *
 * - `keyv.iterator()` works: Keyv 5 wires it only for adapters on its own list.
 * - Values keep their types. Keyv's JSON serialization is off unless `serialize`/`deserialize`
 *   are given, so Keyv hands cachekit `{ value, expires }` as is and cachekit's lossless codec
 *   keeps `Date`, `Map`, `Set`, `BigInt`, `Uint8Array` and `undefined` in every store. The memory
 *   store's default `mutation: 'freeze'` then applies: values read back are frozen copies.
 *
 * `throwOnErrors` applies to Keyv and to the adapter, so failures reject instead of only being
 * emitted as `'error'`.
 */
export function createKeyv<Value = unknown>(cache: Cache, options: CreateKeyvOptions = {}): Keyv<Value> {
  const store = new KeyvCachekit(cache, { throwOnErrors: options.throwOnErrors ?? false })
  const keyv = new Keyv<Value>({ serialize: undefined, deserialize: undefined, ...options, store })
  keyv.iterator ??= keyv.generateIterator(store.iterator.bind(store))
  return keyv
}
