import promClient, { type Counter, type Gauge, type Histogram, type Registry } from 'prom-client'
import { InvalidOptionError } from '../../errors.js'
import { TIMING_SAMPLE_EVERY } from '../channels.js'
import { SampledHistogram } from './sampled-histogram.js'

/**
 * Latency buckets, in seconds: from 10 µs (an in-process hit takes well under one) through the
 * milliseconds of a Redis or SQL round trip to a second.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1,
]
const FACTORY_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

const CACHE = ['cache', 'namespace'] as const

/** Every metric cachekit registers, by role. */
export interface PromMetrics {
  readonly operations: Counter
  readonly hits: Counter
  readonly misses: Counter
  readonly staleServed: Counter
  readonly coalesced: Counter
  readonly evictions: Counter
  readonly entries: Gauge
  readonly bytes: Gauge
  readonly errors: Counter
  readonly duration: SampledHistogram
  readonly factoryDuration: Histogram
  readonly redisUp: Gauge
  readonly redisMemory: Gauge
  readonly redisMaxMemory: Gauge
  readonly redisKeys: Gauge
  readonly redisEvicted: Gauge
  readonly rateLimit: Counter
  readonly lockouts: Counter
  readonly loginRefused: Counter
  readonly oneTimeCodes: Counter
  readonly httpCache: Counter
  readonly httpCacheRefusals: Counter
  readonly httpCacheStores: Counter
  readonly degraded: Counter
  /** Metrics filled from `stats()` at each scrape. */
  readonly pulled: readonly (Counter | Gauge)[]
  /** Metrics filled from Redis `INFO` at each scrape. */
  readonly redisGauges: readonly Gauge[]
}

type Kind = 'counter' | 'gauge' | 'histogram'
interface Config {
  readonly help: string
  readonly labelNames: readonly string[]
  readonly buckets?: readonly number[]
}

/**
 * The metric of that name already in the registry (registered by an earlier call, or before a hot
 * reload), or a new one. A metric of that name but another type or other labels is a conflict.
 */
function ensure<T extends Counter | Gauge | Histogram>(
  registry: Registry,
  kind: Kind,
  name: string,
  config: Config,
): T {
  const existing = registry.getSingleMetric(name) as
    | (T & { type?: string; labelNames?: string[] })
    | undefined
  if (existing) {
    const same =
      existing.type === kind &&
      JSON.stringify([...(existing.labelNames ?? [])].sort()) ===
        JSON.stringify([...config.labelNames].sort())
    if (!same) {
      throw new InvalidOptionError(
        `registerMetrics: the registry already has a metric "${name}" of another type or labels; pass another prefix`,
      )
    }
    return existing
  }
  const base = { name, help: config.help, labelNames: [...config.labelNames], registers: [registry] }
  if (kind === 'counter') return new promClient.Counter(base) as T
  if (kind === 'gauge') return new promClient.Gauge(base) as T
  return new promClient.Histogram({ ...base, buckets: [...(config.buckets ?? DURATION_BUCKETS)] }) as T
}

/** Registers (or finds) every metric under `prefix`. */
export function definePromMetrics(registry: Registry, prefix: string): PromMetrics {
  const counter = (name: string, help: string, labelNames: readonly string[]) =>
    ensure<Counter>(registry, 'counter', prefix + name, { help, labelNames })
  const gauge = (name: string, help: string, labelNames: readonly string[]) =>
    ensure<Gauge>(registry, 'gauge', prefix + name, { help, labelNames })
  const histogram = (name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) =>
    ensure<Histogram>(registry, 'histogram', prefix + name, { help, labelNames, buckets })

  const operations = counter(
    'cache_operations_total',
    'Cache operations by cache, namespace, tier that answered, operation and result (from stats())',
    [...CACHE, 'tier', 'operation', 'result'],
  )
  const hits = counter('cache_hits_total', 'Cache reads that found a fresh value', CACHE)
  const misses = counter('cache_misses_total', 'Cache reads that found nothing fresh', CACHE)
  const staleServed = counter(
    'cache_stale_served_total',
    'getOrSet calls answered with a stale value inside its grace period',
    CACHE,
  )
  const coalesced = counter(
    'cache_coalesced_total',
    'getOrSet callers that joined a factory call already running',
    CACHE,
  )
  const evictions = counter('cache_evictions_total', 'Entries the store dropped to stay within bounds', [
    'cache',
    'tier',
  ])
  const entries = gauge('cache_entries', 'Entries held by the store (L1: this process)', ['cache', 'tier'])
  const bytes = gauge('cache_bytes', 'Bytes held by the store, where it counts them', ['cache', 'tier'])
  const errors = counter('cache_errors_total', 'Store failures and unreadable entries, by error code', [
    ...CACHE,
    'operation',
    'code',
  ])
  const durationName = `${prefix}cache_operation_duration_seconds`
  const duration = SampledHistogram.ensure(
    registry,
    durationName,
    `Latency of cache operations (one in ${TIMING_SAMPLE_EVERY} timed), by tier: sub-millisecond buckets for L1`,
    [...CACHE, 'tier', 'operation', 'result'],
    DURATION_BUCKETS,
  )
  if (!duration) {
    throw new InvalidOptionError(
      `registerMetrics: the registry already has a metric "${durationName}" of another kind; pass another prefix`,
    )
  }
  const factoryDuration = histogram(
    'cache_factory_duration_seconds',
    'How long getOrSet factories ran',
    [...CACHE, 'result'],
    FACTORY_BUCKETS,
  )
  const redisUp = gauge('redis_up', '1 when Redis answered INFO at the last scrape', ['redis'])
  const redisMemory = gauge('redis_memory_used_bytes', 'Redis used_memory (summed over Cluster masters)', [
    'redis',
  ])
  const redisMaxMemory = gauge('redis_memory_max_bytes', 'Redis maxmemory (0: no limit)', ['redis'])
  const redisKeys = gauge('redis_keys', 'Keys in the Redis database (DBSIZE)', ['redis'])
  const redisEvicted = gauge(
    'redis_evicted_keys',
    'Keys Redis evicted since it started (INFO evicted_keys)',
    ['redis'],
  )
  const rateLimit = counter(
    'ratelimit_decisions_total',
    'Rate-limit decisions (consume) by scope, policy and result',
    ['scope', 'policy', 'result'],
  )
  const lockouts = counter('login_guard_lockouts_total', 'Lockouts started by login guards', ['lock', 'kind'])
  const loginRefused = counter(
    'login_guard_refused_total',
    'Login attempts refused by a login guard, by reason',
    ['reason'],
  )
  const oneTimeCodes = counter(
    'one_time_codes_total',
    'One-time codes sent, verified, refused (with reason) and refused inside the resend cooldown',
    ['purpose', 'result', 'reason'],
  )
  const httpCache = counter(
    'http_cache_requests_total',
    'Requests seen by the HTTP response cache, by route template, method and result (hit, miss, stale, bypass)',
    ['route', 'method', 'result'],
  )
  const httpCacheStores = counter(
    'http_cache_stores_total',
    'Responses the HTTP response cache stored, by route template and method',
    ['route', 'method'],
  )
  const httpCacheRefusals = counter(
    'http_cache_refusals_total',
    'Responses the HTTP response cache would not store or requests it bypassed, by reason',
    ['route', 'method', 'reason'],
  )
  const degraded = counter(
    'degraded_total',
    'Degraded answers: ignored store errors, local rate-limit decisions, fallback reads...',
    ['source', 'kind'],
  )
  return {
    operations,
    hits,
    misses,
    staleServed,
    coalesced,
    evictions,
    entries,
    bytes,
    errors,
    duration,
    factoryDuration,
    redisUp,
    redisMemory,
    redisMaxMemory,
    redisKeys,
    redisEvicted,
    rateLimit,
    lockouts,
    loginRefused,
    oneTimeCodes,
    httpCache,
    httpCacheRefusals,
    httpCacheStores,
    degraded,
    pulled: [operations, hits, misses, staleServed, coalesced, evictions, entries, bytes],
    redisGauges: [redisUp, redisMemory, redisMaxMemory, redisKeys, redisEvicted],
  }
}
