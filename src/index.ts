export { Cache, type SetOptions } from './cache/cache.js'
export type { CachedFunction, CachedOptions, MethodDecorator } from './cache/cached.js'
export { type CacheOptions, createCache } from './cache/create.js'
export type { Factory, FactoryContext, GetOrSetOptions } from './cache/get-or-set.js'
export { key, MAX_KEY_LENGTH } from './cache/keys.js'
export type { CacheStats } from './cache/stats.js'
export { type Codec, type CodecOptions, createCodec } from './codec/codec.js'
export type { CompressionAlgorithm, CompressionOptions } from './codec/compression.js'
export { jsonSerializer, msgpackSerializer, type Serializer } from './codec/serializers.js'
export type { DecodeLimits } from './codec/value.js'
export * from './errors.js'
export type { Clock } from './internal/clock.js'
export {
  type Duration,
  type DurationString,
  type DurationUnit,
  durationToMs,
  type Ttl,
} from './internal/duration.js'
export { escapeGlob, globMatcher, matchGlob } from './internal/glob.js'
export type { MaybePromise } from './internal/maybe-promise.js'
export {
  type CacheEvent,
  type CacheEventType,
  CHANNELS,
  DEGRADED_CHANNEL,
  type DegradedEvent,
  HTTP_CACHE_CHANNEL,
  type HttpCacheEvent,
  LOGIN_GUARD_CHANNEL,
  type LoginGuardEvent,
  ONE_TIME_CODE_CHANNEL,
  type OneTimeCodeEvent,
  RATE_LIMIT_CHANNEL,
  type RateLimitEvent,
  TIMING_CHANNEL,
  TIMING_SAMPLE_EVERY,
  type Tier,
  type TimingEvent,
} from './observe/channels.js'
export { completeStore } from './stores/complete.js'
export { DummyStore, dummyStore } from './stores/dummy/index.js'
export {
  MemoryStore,
  type MemoryStoreOptions,
  type MutationPolicy,
  memoryStore,
} from './stores/memory/index.js'
export type {
  CompleteStore,
  ScopedAccess,
  Store,
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from './stores/types.js'
export {
  type BusListener,
  type Invalidation,
  type InvalidationBus,
  type MemoryBus,
  memoryBus,
} from './tiers/bus.js'
export type { TierReads } from './tiers/tiered-store.js'
