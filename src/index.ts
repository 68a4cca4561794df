export type {
  CachedFunction,
  CachedOptions,
  CacheStats,
  Factory,
  FactoryContext,
  GetOrSetOptions,
  MethodDecorator,
} from './cache/index.js'
export {
  Cache,
  type CacheOptions,
  createCache,
  key,
  MAX_KEY_LENGTH,
  type SetOptions,
  type TierSetOptions,
} from './cache/index.js'
export type { CompressionAlgorithm, CompressionOptions, DecodeLimits } from './codec/index.js'
export {
  type Codec,
  type CodecOptions,
  createCodec,
  jsonSerializer,
  msgpackSerializer,
  type Serializer,
} from './codec/index.js'
export * from './errors.js'
export type { Clock, MaybePromise } from './internal/index.js'
export {
  type Duration,
  type DurationString,
  type DurationUnit,
  durationToMs,
  escapeGlob,
  globMatcher,
  matchGlob,
  type Ttl,
} from './internal/index.js'
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
} from './observe/index.js'
export { DummyStore, dummyStore } from './stores/dummy/index.js'
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
} from './stores/index.js'
export { completeStore } from './stores/index.js'
export {
  MemoryStore,
  type MemoryStoreOptions,
  type MutationPolicy,
  memoryStore,
} from './stores/memory/index.js'
export type { TierReads } from './tiers/index.js'
export {
  type BusListener,
  type Invalidation,
  type InvalidationBus,
  type MemoryBus,
  memoryBus,
} from './tiers/index.js'
