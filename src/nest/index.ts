/**
 * `cachekit/nest`: a `@nestjs/throttler` storage on cachekit's memory or Redis store. Nest's cache
 * (`@nestjs/cache-manager`) takes a cachekit cache through `cachekit/keyv`. Nothing here imports
 * Nest: the storage matches its interface by shape.
 */
export {
  CachekitThrottlerStorage,
  type NestThrottlerRecord,
  type NestThrottlerStorageOptions,
  nestThrottlerStorage,
} from './throttler.js'
