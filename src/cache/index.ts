// Internal door: what code outside cache/ uses from it. Never in package.json "exports".

export type { SetOptions } from './cache.js'
export { Cache } from './cache.js'
export type { CachedFunction, CachedOptions, MethodDecorator } from './cached.js'
export type { CacheOptions } from './create.js'
export { createCache } from './create.js'
export type { Factory, FactoryContext, GetOrSetOptions } from './get-or-set.js'
export { key, MAX_KEY_LENGTH } from './keys.js'
export type { CacheStats } from './stats.js'
export type { TierSetOptions } from './tier-write.js'
