export { RESERVED as RESERVED_KEY_PREFIX } from './bookkeeping.js'
export type { BreakerOptions, BreakerState } from './breaker.js'
export { DEFAULT_CHANNEL as INVALIDATION_CHANNEL, redisInvalidationBus } from './bus.js'
export type { PubSubChannel, PubSubChannelOptions } from './channel.js'
export { redisOptionsFromEnv } from './env.js'
export type { RedisInspection } from './inspect.js'
export type {
  RedisClientOptions,
  RedisClusterOptions,
  RedisHostOptions,
  RedisLogEvent,
  RedisSentinelOptions,
  RedisStoreOptions,
  RedisStoreState,
  RedisUrlOptions,
} from './options.js'
export { type Script, type ScriptRunner, script } from './scripts.js'
export type { RedisStoreStats } from './stats.js'
export { RedisStore, redisStore } from './store.js'
export type { SubscriptionCounts } from './subscriptions.js'
export { parseRedisUrl, type RedisConnection, type RedisEndpoint, redactUrl } from './url.js'
