import diagnostics from 'node:diagnostics_channel'
import type { Cache } from '../cache/index.js'
import type { StoreStats } from '../stores/index.js'
import {
  type CacheEvent,
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
  type Tier,
  type TimingEvent,
} from './channels.js'
import { cacheLabel, LabelGuard } from './labels.js'

/**
 * The framework-neutral half of the Prometheus and OpenTelemetry doors: subscribes to cachekit's
 * channels and hands each event to a sink with bounded labels only (never a key, a user, an IP or
 * a raw path), and reads counters from `cache.stats()` when a scrape asks for them.
 */

export type Labels = Readonly<Record<string, string>>

/** Where events go: one method per kind of instrument. */
export interface EventSink {
  /** One timed operation (sampled, see `TIMING_SAMPLE_EVERY`), in seconds. */
  timing(labels: Labels, seconds: number, event: TimingEvent): void
  /** How long a `getOrSet` factory ran, in seconds. */
  factory(labels: Labels, seconds: number): void
  error(labels: Labels): void
  rateLimit(labels: Labels): void
  lockout(labels: Labels): void
  loginRefused(labels: Labels): void
  oneTimeCode(labels: Labels): void
  httpCache(labels: Labels): void
  httpCacheStore(labels: Labels): void
  httpCacheRefusal(labels: Labels): void
  degraded(labels: Labels): void
}

export interface LabelLimits {
  /** Distinct values kept per data-fed label (namespace, route, reason, purpose...). Default 100. */
  readonly maxLabelValues?: number
}

/** Maps keyed field by field: `map.get(a).get(b)...` down to a label set. */
type NestedMap = Map<string, NestedMap | Labels>

function nestedGet(map: NestedMap, path: readonly string[]): Labels | undefined {
  let at: NestedMap | Labels | undefined = map
  for (const part of path) {
    at = (at as NestedMap).get(part)
    if (at === undefined) return undefined
  }
  return at as Labels
}

function nestedSet(map: NestedMap, path: readonly string[], labels: Labels): void {
  let at = map
  for (let i = 0; i < path.length - 1; i++) {
    let next = at.get(path[i] as string) as NestedMap | undefined
    if (next === undefined) at.set(path[i] as string, (next = new Map()))
    at = next
  }
  at.set(path[path.length - 1] as string, labels)
}

/** Subscribes a sink to every channel; returns the unsubscribe. */
export function subscribeEvents(
  sink: EventSink,
  limits: LabelLimits = {},
  /** Hands the sink one timing event in this many (dropped before any label work). Default 1. */
  timingEvery = 1,
): () => void {
  const max = limits.maxLabelValues ?? 100
  let timingTick = 0
  const guards = new Map<string, LabelGuard>()
  const label = (name: string, raw: string | undefined, fallback = '') => {
    let guard = guards.get(name)
    if (!guard) guards.set(name, (guard = new LabelGuard(max)))
    return guard.value(raw, fallback)
  }
  const cacheLabels = (prefix: string, namespace: string) => ({
    cache: label('cache', cacheLabel(prefix)),
    namespace: label('namespace', namespace),
  })
  // Timing events come often (one operation in TIMING_SAMPLE_EVERY): each label set is built once
  // and handed over as the same frozen object, so sinks can key their series by identity. Found
  // through one map per field (each lookup hashes a string the event already holds) rather than
  // under a key joined per event.
  const timingLabels: NestedMap = new Map()
  let timingSeries = 0
  const handlers: Array<readonly [string, (message: unknown) => void]> = [
    [
      TIMING_CHANNEL,
      (message) => {
        if (timingEvery > 1) {
          if (++timingTick < timingEvery) return
          timingTick = 0
        }
        const e = message as TimingEvent
        const path = [e.prefix, e.namespace, e.operation, e.result, e.tier] as const
        let labels = nestedGet(timingLabels, path)
        if (labels === undefined) {
          labels = Object.freeze({
            ...cacheLabels(e.prefix, e.namespace),
            tier: e.tier,
            operation: label('operation', e.operation),
            result: e.result,
          })
          // Bounded like the labels themselves: past the limit, build per event (still bounded values).
          if (timingSeries < max * 50) {
            timingSeries++
            nestedSet(timingLabels, path, labels)
          }
        }
        sink.timing(labels, e.durationMs / 1000, e)
      },
    ],
    [
      CHANNELS.factory,
      (message) => {
        const e = message as CacheEvent
        const labels = {
          ...cacheLabels(e.prefix, e.namespace),
          result: e.error === undefined ? 'ok' : 'error',
        }
        sink.factory(labels, (e.durationMs ?? 0) / 1000)
      },
    ],
    [
      CHANNELS.error,
      (message) => {
        const e = message as CacheEvent
        const code = (e.error as { code?: unknown } | undefined)?.code
        sink.error({
          ...cacheLabels(e.prefix, e.namespace),
          operation: label('operation', e.operation, 'unknown'),
          code: label('code', typeof code === 'string' ? code : undefined, 'unknown'),
        })
      },
    ],
    [
      RATE_LIMIT_CHANNEL,
      (message) => {
        const e = message as RateLimitEvent
        if (e.mode !== 'consume') return
        const scope = label('scope', e.scope)
        for (const policy of e.policies) {
          sink.rateLimit({
            scope,
            policy: label('policy', policy.name),
            result: policy.allowed ? 'allowed' : 'refused',
          })
        }
      },
    ],
    [
      LOGIN_GUARD_CHANNEL,
      (message) => {
        const e = message as LoginGuardEvent
        if (e.action === 'lockout') {
          sink.lockout({ lock: label('lock', e.lock, 'unknown'), kind: e.reason ?? 'temporary' })
        } else if (e.action === 'refused') sink.loginRefused({ reason: label('reason', e.reason, 'locked') })
      },
    ],
    [
      ONE_TIME_CODE_CHANNEL,
      (message) => {
        const e = message as OneTimeCodeEvent
        sink.oneTimeCode({ purpose: label('purpose', e.purpose), result: e.action, reason: e.reason ?? '' })
      },
    ],
    [
      HTTP_CACHE_CHANNEL,
      (message) => {
        const e = message as HttpCacheEvent
        const route = label('route', e.route, 'unknown')
        const method = label('method', e.method?.toUpperCase(), 'GET')
        // A stored response is the second event of a miss: counted apart, not as another request.
        if (e.type === 'store') sink.httpCacheStore({ route, method })
        else sink.httpCache({ route, method, result: label('http_result', e.type) })
        if (e.reason !== undefined && (e.type === 'bypass' || e.type === 'miss')) {
          sink.httpCacheRefusal({ route, method, reason: label('reason', e.reason) })
        }
      },
    ],
    [
      DEGRADED_CHANNEL,
      (message) => {
        const e = message as DegradedEvent
        sink.degraded({ source: label('source', e.source), kind: label('kind', e.kind) })
      },
    ],
  ]
  for (const [name, handler] of handlers) diagnostics.subscribe(name, handler)
  let subscribed = true
  return () => {
    if (!subscribed) return
    subscribed = false
    for (const [name, handler] of handlers) diagnostics.unsubscribe(name, handler)
  }
}

/** One cache (or namespace) row of a scrape, read from `stats()`. */
export interface CacheRow {
  readonly labels: { readonly cache: string; readonly namespace: string }
  readonly hits: number
  readonly l1Hits: number
  readonly misses: number
  readonly sets: number
  readonly deletes: number
  readonly staleServed: number
  readonly coalesced: number
  readonly factoryCalls: number
  readonly factoryErrors: number
}

/** A cache's store figures: L1 (or the single store) and, with tiers, L2. */
export interface StoreRow {
  readonly cache: string
  readonly tier: Tier
  readonly entries: number | undefined
  readonly bytes: number | undefined
  readonly evictions: number
}

/** The deepest tier a cache's misses reach: L2 when it has a shared store. */
export function missTier(cache: Cache): Tier {
  return cache.store.capabilities.shared ? 'l2' : 'l1'
}

/**
 * Counters of every cache and namespace, summed where two caches share a label set. Namespace
 * labels pass the same guard as events, so thousands of per-user namespaces stay bounded.
 */
export function readCaches(caches: readonly Cache[], namespaces: LabelGuard): CacheRow[] {
  const rows = new Map<string, CacheRow & Record<string, unknown>>()
  const add = (cache: string, namespace: string, figures: Omit<CacheRow, 'labels'>) => {
    const ns = namespaces.value(namespace)
    const id = `${cache}\u0000${ns}`
    const row = rows.get(id)
    if (!row) {
      rows.set(id, { labels: { cache, namespace: ns }, ...pick(figures) })
      return
    }
    const sum = row as unknown as Record<string, number>
    for (const [name, value] of Object.entries(pick(figures))) sum[name] = (sum[name] ?? 0) + value
  }
  for (const cache of caches) {
    const stats = cache.stats()
    const name = cacheLabel(cache.prefix)
    const base = cache.namespacePath
    const full = (path: string) => (base === '' ? path : path === '' ? base : `${base}:${path}`)
    // Own counters: the cache's totals minus those of its namespaces.
    const own = { ...pick(stats) } as Record<string, number>
    for (const [path, ns] of Object.entries(stats.namespaces)) {
      add(name, full(path), ns)
      for (const [field, value] of Object.entries(pick(ns))) own[field] = (own[field] ?? 0) - value
    }
    add(name, base, own as unknown as Omit<CacheRow, 'labels'>)
  }
  return [...rows.values()]
}

function pick(s: Omit<CacheRow, 'labels'>): Omit<CacheRow, 'labels'> {
  return {
    hits: s.hits,
    l1Hits: s.l1Hits,
    misses: s.misses,
    sets: s.sets,
    deletes: s.deletes,
    staleServed: s.staleServed,
    coalesced: s.coalesced,
    factoryCalls: s.factoryCalls,
    factoryErrors: s.factoryErrors,
  }
}

/** Entries, bytes and evictions of each cache's store (L1, and L2 of a tiered one). */
export function readStores(caches: readonly Cache[]): StoreRow[] {
  const rows: StoreRow[] = []
  const seen = new Set<unknown>()
  for (const cache of caches) {
    if (seen.has(cache.store)) continue
    seen.add(cache.store)
    const name = cacheLabel(cache.prefix)
    const stats = cache.store.stats?.() as (StoreStats & { l2?: StoreStats }) | undefined
    if (!stats) continue
    const tiered = stats.l2 !== undefined
    const first: Tier = tiered || !cache.store.capabilities.shared ? 'l1' : 'l2'
    rows.push({
      cache: name,
      tier: first,
      entries: stats.entries,
      bytes: stats.bytes,
      evictions: stats.evictions ?? 0,
    })
    if (stats.l2) {
      rows.push({
        cache: name,
        tier: 'l2',
        entries: stats.l2.entries,
        bytes: stats.l2.bytes,
        evictions: stats.l2.evictions ?? 0,
      })
    }
  }
  return rows
}

/** What Redis says about itself: the `inspect()` of a Redis store. */
export interface RedisFigures {
  readonly usedMemory: number
  readonly maxmemory: number
  readonly dbSize: number
  readonly evictedKeys: number
  readonly connectedClients: number
}

/** Anything with `inspect()` (a `redisStore`). */
export interface Inspectable {
  inspect(): Promise<RedisFigures>
}

function inspectable(store: unknown): Inspectable | undefined {
  const candidate = store as Partial<Inspectable> | undefined
  return typeof candidate?.inspect === 'function' ? (candidate as Inspectable) : undefined
}

/** The Redis stores behind the caches (single store, or L2 of tiers), plus those given (the doors' `redis` option). */
export function findRedis(
  caches: readonly Cache[],
  given: Inspectable | readonly Inspectable[] | undefined,
): Inspectable[] {
  const found = new Set<Inspectable>(
    given === undefined ? [] : Array.isArray(given) ? given : [given as Inspectable],
  )
  for (const cache of caches) {
    const store = cache.store as { tiers?: readonly unknown[] }
    for (const candidate of [store, ...(store.tiers ?? [])]) {
      const redis = inspectable(candidate)
      if (redis) found.add(redis)
    }
  }
  return [...found]
}

/** INFO of one Redis, or undefined when it did not answer within `ms`. */
export async function inspectWithin(redis: Inspectable, ms: number): Promise<RedisFigures | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      redis.inspect(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms)
      }),
    ])
  } catch {
    return undefined
  } finally {
    clearTimeout(timer)
  }
}
