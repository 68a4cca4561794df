import type { IncomingMessage, ServerResponse } from 'node:http'
import promClient, { type Registry } from 'prom-client'
import type { Cache } from '../../cache/index.js'
import { InvalidOptionError } from '../../errors.js'
import { type Duration, renamedMs } from '../../internal/index.js'
import { cacheLabel, LabelGuard } from '../labels.js'
import { countingSink } from '../metrics.js'
import {
  findRedis,
  type Inspectable,
  inspectWithin,
  type LabelLimits,
  missTier,
  readCaches,
  readStores,
  subscribeEvents,
} from '../sources.js'
import { definePromMetrics, type PromMetrics } from './metrics.js'

export type { Inspectable, RedisFigures } from '../sources.js'
export { DURATION_BUCKETS } from './metrics.js'

/** Options of {@link registerMetrics}. */
export interface PrometheusMetricsOptions extends LabelLimits {
  /** The app's registry. Default prom-client's global `register`. */
  readonly registry?: Registry
  /**
   * Caches whose counters (`stats()`) and store figures are read on each scrape. Events (latency,
   * errors, rate limits...) are counted for every cache of the process whether listed or not.
   */
  readonly caches?: readonly Cache[]
  /** Redis stores to read `INFO` from on each scrape, besides those found behind `caches`. */
  readonly redis?: Inspectable | readonly Inspectable[]
  /** Metric name prefix. Default `'cachekit_'`. */
  readonly prefix?: string
  /** How long a scrape waits for Redis `INFO`. Default `'1s'`; a Redis that does not answer reports `up 0`. */
  readonly redisTimeout?: Duration
  /** @deprecated The old name of `redisTimeout`, in milliseconds. */
  readonly redisTimeoutMs?: number
}

/** What {@link registerMetrics} returns. */
export interface PrometheusMetrics {
  readonly registry: Registry
  /** Stops counting events and reading caches (the metrics stay registered, with their last values). */
  close(): void
}

const REGISTRATION = Symbol.for('cachekit.prometheus.registration')

type Registered = Registry & { [REGISTRATION]?: PrometheusMetrics }

/**
 * Registers cachekit's metrics into a prom-client registry. Idempotent: calling it again for the
 * same registry (a second import, a hot reload) reuses the metrics already there and replaces the
 * earlier registration's sources, so it never throws "already registered" and never counts twice.
 *
 * ```ts
 * const metrics = registerMetrics({ registry, caches: [cache] })
 * app.get('/metrics', metricsHandler(registry))
 * ```
 */
export function registerMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('registerMetrics options must be an object: registerMetrics({ registry })')
  }
  const registry = (options.registry ?? promClient.register) as Registered
  const prefix = options.prefix ?? 'cachekit_'
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
    throw new InvalidOptionError(
      `registerMetrics prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*, got ${String(prefix)}`,
    )
  }
  const caches = [...(options.caches ?? [])]
  const redisTimeoutMs = renamedMs(
    options.redisTimeout,
    options.redisTimeoutMs,
    '1s',
    'registerMetrics redisTimeout',
    {
      min: 1,
    },
  )
  const maxLabelValues = options.maxLabelValues ?? 100
  if (!Number.isSafeInteger(maxLabelValues) || maxLabelValues < 1) {
    throw new InvalidOptionError('registerMetrics maxLabelValues must be a whole number >= 1')
  }
  registry[REGISTRATION]?.close()
  const m = definePromMetrics(registry, prefix)
  const namespaces = new LabelGuard(maxLabelValues)
  const redis = findRedis(caches, options.redis)
  let open = true

  const unsubscribe = subscribeEvents(
    countingSink((role, labels) => m[role].inc(labels), {
      timing: (labels, seconds) => m.duration.observe(labels, seconds),
      factory: (labels, seconds) => m.factoryDuration.observe(labels, seconds),
    }),
    { maxLabelValues },
  )

  setCollectors(m, {
    caches: () => {
      if (!open) return
      collectCaches(m, caches, namespaces)
    },
    redis: async () => {
      if (!open) return
      for (const gauge of m.redisGauges) gauge.reset()
      await Promise.all(
        redis.map(async (store, i) => {
          const labels = { redis: String(i) }
          const figures = await inspectWithin(store, redisTimeoutMs)
          m.redisUp.set(labels, figures ? 1 : 0)
          if (!figures) return
          m.redisMemory.set(labels, figures.usedMemory)
          m.redisMaxMemory.set(labels, figures.maxmemory)
          m.redisKeys.set(labels, figures.dbSize)
          m.redisEvicted.set(labels, figures.evictedKeys)
        }),
      )
    },
  })

  const registration: PrometheusMetrics = {
    registry,
    close() {
      if (!open) return
      open = false
      unsubscribe()
      if (registry[REGISTRATION] === registration) delete registry[REGISTRATION]
    },
  }
  registry[REGISTRATION] = registration
  return registration
}

/**
 * The collect hooks of the pulled metrics. A metric reused from an earlier registration (hot
 * reload) gets the new hooks: prom-client calls `metric.collect` at every scrape.
 */
function setCollectors(m: PromMetrics, hooks: { caches: () => void; redis: () => Promise<void> }): void {
  let pending: Promise<void> | undefined
  // Each pulled metric reads the caches again when it is collected: stats() is cheap, and every
  // metric then reports figures read at the moment it is written out.
  for (const metric of m.pulled) (metric as { collect?: () => void }).collect = hooks.caches
  const redisOnce = () => {
    pending ??= hooks.redis().finally(() => {
      pending = undefined
    })
    return pending
  }
  for (const metric of m.redisGauges) (metric as { collect?: () => Promise<void> }).collect = redisOnce
}

function collectCaches(m: PromMetrics, caches: readonly Cache[], namespaces: LabelGuard): void {
  for (const metric of m.pulled) metric.reset()
  const missTiers = new Map<string, 'l1' | 'l2'>()
  for (const cache of caches) missTiers.set(cacheLabel(cache.prefix), missTier(cache))
  for (const row of readCaches(caches, namespaces)) {
    const { labels } = row
    const missAt = missTiers.get(labels.cache) ?? 'l2'
    const op = (operation: string, result: string, tier: string, value: number) => {
      if (value > 0) m.operations.inc({ ...labels, tier, operation, result }, value)
    }
    op('get', 'hit', 'l1', row.l1Hits)
    op('get', 'hit', 'l2', row.hits - row.l1Hits)
    op('get', 'miss', missAt, row.misses)
    op('set', 'ok', missAt, row.sets)
    op('delete', 'ok', missAt, row.deletes)
    op('factory', 'ok', 'none', row.factoryCalls - row.factoryErrors)
    op('factory', 'error', 'none', row.factoryErrors)
    m.hits.inc(labels, row.hits)
    m.misses.inc(labels, row.misses)
    m.staleServed.inc(labels, row.staleServed)
    m.coalesced.inc(labels, row.coalesced)
  }
  m.entries.reset()
  m.bytes.reset()
  for (const row of readStores(caches)) {
    const labels = { cache: row.cache, tier: row.tier }
    if (row.entries !== undefined) m.entries.set(labels, row.entries)
    if (row.bytes !== undefined) m.bytes.set(labels, row.bytes)
    if (row.evictions > 0) m.evictions.inc(labels, row.evictions)
  }
}

/**
 * A Node `(req, res)` handler serving the registry in the Prometheus text format: mount it as
 * `app.get('/metrics', metricsHandler(registry))` in Express, or call it from any `http` server.
 */
export function metricsHandler(registry: Registry = promClient.register) {
  return function cachekitMetrics(_req: IncomingMessage, res: ServerResponse): void {
    registry.metrics().then(
      (text) => {
        res.statusCode = 200
        res.setHeader('Content-Type', registry.contentType)
        res.end(text)
      },
      (error: unknown) => {
        res.statusCode = 500
        res.setHeader('Content-Type', 'text/plain; charset=utf-8')
        res.end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`)
      },
    )
  }
}

/** The registry as a web-standard `Response` (Hono, Fastify `reply.send(await ...)`, any fetch handler). */
export async function metricsResponse(registry: Registry = promClient.register): Promise<Response> {
  const text = await registry.metrics()
  return new Response(text, { status: 200, headers: { 'Content-Type': registry.contentType } })
}
