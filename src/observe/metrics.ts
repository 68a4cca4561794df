import type { EventSink, Labels } from './sources.js'

/**
 * Every metric cachekit reports, once for both doors: its Prometheus name (after the prefix) and
 * labels, its OpenTelemetry name and unit, and what it counts. The Prometheus door registers them
 * all; the OpenTelemetry door makes an instrument of each it reports.
 */
export interface MetricSpec {
  readonly kind: 'counter' | 'gauge' | 'histogram'
  readonly prom: string
  readonly otel: string
  readonly unit: string
  readonly labels: readonly string[]
  readonly help: string
  /** Histogram bucket bounds, in the metric's unit. */
  readonly buckets?: readonly number[]
}

const CACHE = ['cache', 'namespace'] as const
const STORE = ['cache', 'tier'] as const
const REDIS = ['redis'] as const
const ROUTE = ['route', 'method'] as const

/**
 * Latency buckets, in seconds: from 10 µs (an in-process hit takes well under one) through the
 * milliseconds of a Redis or SQL round trip to a second.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1,
]
export const FACTORY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]

const spec = <K extends MetricSpec['kind']>(
  kind: K,
  prom: string,
  otel: string,
  unit: string,
  labels: readonly string[],
  help: string,
): MetricSpec & { readonly kind: K } => ({ kind, prom, otel: `cachekit.${otel}`, unit, labels, help })

// biome-ignore format: one metric a line reads as a table
export const METRICS = {
  // Read from `stats()` at each collection.
  operations: spec('counter', 'cache_operations_total', 'cache.operations', '{operation}', [...CACHE, 'tier', 'operation', 'result'], 'Cache operations by cache, namespace, tier that answered, operation and result (from stats())'),
  hits: spec('counter', 'cache_hits_total', 'cache.hits', '{hit}', CACHE, 'Cache reads that found a fresh value'),
  misses: spec('counter', 'cache_misses_total', 'cache.misses', '{miss}', CACHE, 'Cache reads that found nothing fresh'),
  staleServed: spec('counter', 'cache_stale_served_total', 'cache.stale_served', '{call}', CACHE, 'getOrSet calls answered with a stale value inside its grace period'),
  coalesced: spec('counter', 'cache_coalesced_total', 'cache.coalesced', '{call}', CACHE, 'getOrSet callers that joined a factory call already running'),
  evictions: spec('counter', 'cache_evictions_total', 'cache.evictions', '{entry}', STORE, 'Entries the store dropped to stay within bounds'),
  entries: spec('gauge', 'cache_entries', 'cache.entries', '{entry}', STORE, 'Entries held by the store (L1: this process)'),
  bytes: spec('gauge', 'cache_bytes', 'cache.size', 'By', STORE, 'Bytes held by the store, where it counts them'),
  // Fed by the diagnostics channels.
  duration: { ...spec('histogram', 'cache_operation_duration_seconds', 'cache.operation.duration', 's', [...CACHE, 'tier', 'operation', 'result'], 'Latency of cache operations, by tier: sub-millisecond buckets for L1'), buckets: DURATION_BUCKETS },
  factoryDuration: { ...spec('histogram', 'cache_factory_duration_seconds', 'cache.factory.duration', 's', [...CACHE, 'result'], 'How long getOrSet factories ran'), buckets: FACTORY_BUCKETS },
  errors: spec('counter', 'cache_errors_total', 'cache.errors', '{error}', [...CACHE, 'operation', 'code'], 'Store failures and unreadable entries, by error code'),
  rateLimit: spec('counter', 'ratelimit_decisions_total', 'ratelimit.decisions', '{decision}', ['scope', 'policy', 'result'], 'Rate-limit decisions (consume) by scope, policy and result'),
  lockouts: spec('counter', 'login_guard_lockouts_total', 'login_guard.lockouts', '{lockout}', ['lock', 'kind'], 'Lockouts started by login guards'),
  loginRefused: spec('counter', 'login_guard_refused_total', 'login_guard.refused', '{attempt}', ['reason'], 'Login attempts refused by a login guard, by reason'),
  oneTimeCodes: spec('counter', 'one_time_codes_total', 'one_time_codes', '{code}', ['purpose', 'result', 'reason'], 'One-time codes sent, verified, refused (with reason) and refused inside the resend cooldown'),
  httpCache: spec('counter', 'http_cache_requests_total', 'http_cache.requests', '{request}', [...ROUTE, 'result'], 'Requests seen by the HTTP response cache, by route template, method and result (hit, miss, stale, bypass)'),
  httpCacheStores: spec('counter', 'http_cache_stores_total', 'http_cache.stores', '{response}', ROUTE, 'Responses the HTTP response cache stored, by route template and method'),
  httpCacheRefusals: spec('counter', 'http_cache_refusals_total', 'http_cache.refusals', '{response}', [...ROUTE, 'reason'], 'Responses the HTTP response cache would not store or requests it bypassed, by reason'),
  degraded: spec('counter', 'degraded_total', 'degraded', '{event}', ['source', 'kind'], 'Degraded answers: ignored store errors, local rate-limit decisions, fallback reads...'),
  // Read from Redis `INFO` at each collection.
  redisUp: spec('gauge', 'redis_up', 'redis.up', '1', REDIS, '1 when Redis answered INFO at the last scrape'),
  redisMemory: spec('gauge', 'redis_memory_used_bytes', 'redis.memory.used', 'By', REDIS, 'Redis used_memory (summed over Cluster masters)'),
  redisMaxMemory: spec('gauge', 'redis_memory_max_bytes', 'redis.memory.max', 'By', REDIS, 'Redis maxmemory (0: no limit)'),
  redisKeys: spec('gauge', 'redis_keys', 'redis.keys', '{key}', REDIS, 'Keys in the Redis database (DBSIZE)'),
  redisEvicted: spec('gauge', 'redis_evicted_keys', 'redis.evicted_keys', '{key}', REDIS, 'Keys Redis evicted since it started (INFO evicted_keys)'),
} as const

export type MetricRole = keyof typeof METRICS

/** The metrics read from `stats()` at each collection. */
export const PULLED = [
  'operations',
  'hits',
  'misses',
  'staleServed',
  'coalesced',
  'evictions',
  'entries',
  'bytes',
] as const satisfies readonly MetricRole[]

/** The metrics read from Redis `INFO` at each collection. */
export const REDIS_GAUGES = [
  'redisUp',
  'redisMemory',
  'redisMaxMemory',
  'redisKeys',
  'redisEvicted',
] as const satisfies readonly MetricRole[]

/** The counter each counted event adds one to. */
export const EVENT_COUNTERS = {
  error: 'errors',
  rateLimit: 'rateLimit',
  lockout: 'lockouts',
  loginRefused: 'loginRefused',
  oneTimeCode: 'oneTimeCodes',
  httpCache: 'httpCache',
  httpCacheRefusal: 'httpCacheRefusals',
  httpCacheStore: 'httpCacheStores',
  degraded: 'degraded',
} as const satisfies Record<Exclude<keyof EventSink, 'timing' | 'factory'>, MetricRole>

export type EventCounterRole = (typeof EVENT_COUNTERS)[keyof typeof EVENT_COUNTERS]

/**
 * An event sink whose counted events each add one through `count`, with the door's own `timing`
 * and `factory` handlers.
 */
export function countingSink(
  count: (role: EventCounterRole, labels: Labels) => void,
  timed: Pick<EventSink, 'timing' | 'factory'>,
): EventSink {
  const sink: Partial<Record<keyof EventSink, unknown>> = { ...timed }
  for (const [event, role] of Object.entries(EVENT_COUNTERS) as [
    keyof typeof EVENT_COUNTERS,
    EventCounterRole,
  ][]) {
    sink[event] = (labels: Labels) => count(role, labels)
  }
  return sink as EventSink
}
