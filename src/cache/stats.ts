import type { StoreStats } from '../stores/index.js'
import { SEPARATOR } from './keys.js'
import type { Shared } from './shared.js'

/** Counters one cache (root or namespace) keeps about its own calls. */
export class Counters {
  hits = 0
  /** Hits the store answered at once from this process (memory, or the L1 of tiers). */
  l1Hits = 0
  misses = 0
  sets = 0
  deletes = 0
  errors = 0
  coalesced = 0
  staleServed = 0
  factoryCalls = 0
  factoryErrors = 0
  invalidatedFlights = 0

  addTo(total: Counters): void {
    total.hits += this.hits
    total.l1Hits += this.l1Hits
    total.misses += this.misses
    total.sets += this.sets
    total.deletes += this.deletes
    total.errors += this.errors
    total.coalesced += this.coalesced
    total.staleServed += this.staleServed
    total.factoryCalls += this.factoryCalls
    total.factoryErrors += this.factoryErrors
    total.invalidatedFlights += this.invalidatedFlights
  }
}

/** What `cache.stats()` returns. */
export interface CacheStats {
  readonly hits: number
  /**
   * The hits the store answered at once from this process: every hit of a memory cache, the L1
   * hits of a tiered one, none for Redis or SQL alone (`getMany` hits count as L1 only on an
   * in-process store).
   */
  readonly l1Hits: number
  readonly misses: number
  /** `hits / (hits + misses)`, from 0 to 1; 0 before the first read. */
  readonly hitRate: number
  readonly sets: number
  readonly deletes: number
  /** Store failures and unreadable entries met by this cache. */
  readonly errors: number
  /** Entries the store dropped to stay within its bounds (the whole store, not just this cache). */
  readonly evictions: number
  /** `getOrSet` callers that joined a factory call already running instead of starting their own. */
  readonly coalesced: number
  /** `getOrSet` calls answered with a stale value inside its grace period. */
  readonly staleServed: number
  readonly factoryCalls: number
  readonly factoryErrors: number
  /**
   * `getOrSet` factory results not stored because their key or one of their tags was written or
   * invalidated in this process while the factory ran (the callers still got the value).
   */
  readonly invalidatedFlights: number
  /** What the store reports about itself (entries, bytes) where it can. */
  readonly store: StoreStats
  /** The same counters for each namespace below this cache, by namespace path. */
  readonly namespaces: Readonly<Record<string, Omit<CacheStats, 'store' | 'namespaces' | 'evictions'>>>
}

export function summarize(counters: Counters): Omit<CacheStats, 'store' | 'namespaces' | 'evictions'> {
  const reads = counters.hits + counters.misses
  return {
    hits: counters.hits,
    l1Hits: counters.l1Hits,
    misses: counters.misses,
    hitRate: reads === 0 ? 0 : counters.hits / reads,
    sets: counters.sets,
    deletes: counters.deletes,
    errors: counters.errors,
    coalesced: counters.coalesced,
    staleServed: counters.staleServed,
    factoryCalls: counters.factoryCalls,
    factoryErrors: counters.factoryErrors,
    invalidatedFlights: counters.invalidatedFlights,
  }
}

/** Totals for a namespace path ('' = the root) and the namespaces below it, plus the store's figures. */
export function collectStats(shared: Shared, own: string): CacheStats {
  const total = new Counters()
  const namespaces: Record<string, ReturnType<typeof summarize>> = {}
  for (const [path, counters] of shared.registry) {
    if (path !== own && own !== '' && !path.startsWith(own + SEPARATOR)) continue
    counters.addTo(total)
    if (path !== own) namespaces[own ? path.slice(own.length + 1) : path] = summarize(counters)
  }
  const store = shared.store.stats()
  // Failures the store absorbed belong to the whole store, so only the root reports them.
  if (own === '') total.errors += store.errors ?? 0
  return { ...summarize(total), evictions: store.evictions ?? 0, store, namespaces }
}
