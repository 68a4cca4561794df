import type { StoreStats } from '../types.js'
import type { BreakerState } from './breaker.js'
import type { Guard } from './guard.js'
import type { RedisStoreState } from './options.js'
import type { SubscriptionCounts, Subscriptions } from './subscriptions.js'

/** What a Redis store has done: the common store stats plus timeouts, breaker trips and ignored errors. */
export interface RedisStoreStats extends StoreStats {
  /** Calls that failed on an unreachable or slow Redis, or an open circuit. */
  readonly errors: number
  /** Of those, the ones turned into misses/no-ops by `onError: 'ignore'`. */
  readonly ignoredErrors: number
  readonly timeouts: number
  readonly shortCircuited: number
  /** Calls that waited for the first connection, then were served. */
  readonly startupWaits: number
  /**
   * Degraded answers, all kinds together: ignored errors, startup waits, open-circuit refusals.
   * Each is also published on the `cachekit:degraded` diagnostics channel.
   */
  readonly degraded: number
  readonly circuit: BreakerState
  readonly connected: boolean
  /** See {@link RedisStoreState}. */
  readonly state: RedisStoreState
  /** Pub/sub subscriptions (bus, leases, deny cache): live now, or pending (retrying). */
  readonly subscriptions: SubscriptionCounts
}

/** The store's counters now, from its call guard and its subscriptions. */
export function redisStoreStats(guard: Guard, subscriptions: Subscriptions): RedisStoreStats {
  const c = guard.counters
  return {
    errors: c.errors,
    ignoredErrors: c.ignored,
    timeouts: c.timeouts,
    shortCircuited: c.shortCircuited,
    startupWaits: c.startupWaits,
    degraded: c.degraded,
    circuit: guard.breaker?.state ?? 'closed',
    connected: guard.driver?.ready ?? false,
    state: guard.state,
    subscriptions: subscriptions.counts,
  }
}
