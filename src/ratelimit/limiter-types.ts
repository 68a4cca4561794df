import type { Cache } from '../cache/index.js'
import type { Clock, Duration } from '../internal/index.js'
import type { BurstLogEvent } from '../observe/index.js'
import type { MemoryStore } from '../stores/memory/index.js'
import type { SqlStore } from '../stores/sql/index.js'
import type { ScriptRunner } from './backend.js'
import type { FailurePolicy, RateLimitResult } from './result.js'
import type { Policy, RuleSet } from './rules.js'

/**
 * Where request-protection state lives: a memory store, a Redis store (anything with
 * `scriptRunner()`), a cache built on either (tiers use their shared tier), or a script runner.
 */
export type ProtectionStore = MemoryStore | ScriptRunner | { scriptRunner(): ScriptRunner } | Cache

/**
 * Where a rate limiter's counters live: a {@link ProtectionStore}, or a SQL store (PostgreSQL,
 * MySQL/MariaDB, SQLite; a cache on one counts too), which keeps them in its `<table>_rate` table.
 */
export type RateLimitStore = ProtectionStore | SqlStore

/** Options of `createRateLimiter`: the store, the named rules, the algorithm and the error policy. */
export interface RateLimiterOptions<S extends string> {
  /** Where counters live. Default: a private in-process map. */
  readonly store?: RateLimitStore
  /** Rules by scope: `{ anon: '100/hour', api: ['10/s', '1000/day'] }`. */
  readonly rules: { readonly [K in S]: RuleSet }
  /** Prepended to every key. Default `'cachekit:rl'`. */
  readonly prefix?: string
  /** See {@link FailurePolicy}. Default `'local'`. */
  readonly onFailure?: FailurePolicy
  /** The longest a decision may wait for Redis before the failure policy applies. Default `'500ms'`. */
  readonly timeout?: Duration
  /**
   * The longest decisions wait for a shared store's first connection (its `ready()`, or a probe
   * script for stores without one) before the failure policy applies. Decisions never run locally
   * while the store is still connecting. Default `'10s'`; the store's own connect timeout usually
   * ends the wait sooner. A {@link ScriptRunner} passed in is taken as connected.
   */
  readonly connectTimeout?: Duration
  /** After a Redis failure, skip Redis for this long (straight to the failure policy). Default `'1s'`. */
  readonly retryAfterFailure?: Duration
  /**
   * Remember refusals until they expire, so blocked keys cost no Redis call. Default true, except
   * on a SQL store (false: it has no pub/sub, so a reset, reward or block made by another instance
   * would not reach this one's cached refusals until they expire). On a Redis store (which has
   * pub/sub) refusals and resets are shared with every other instance.
   */
  readonly denyCache?: boolean
  /**
   * Another rate limiter that decides while this one's store fails or is out (rate-limiter-flexible's
   * `insuranceLimiter`), instead of `onFailure`: typically a limiter on a memory store with
   * per-process rules, or on a second Redis. It needs a rule for every scope of this limiter; its
   * results say `degraded: 'insurance'`. Should it fail too, `onFailure` decides. Writes (`reward`,
   * `penalty`, `block`, `reset`) are not copied to it, and `close()` leaves it open (it is yours).
   */
  readonly insurance?: RateLimiter<S>
  /** Called with each store failure (the request itself goes on under the failure policy). */
  readonly onError?: (error: unknown) => void
  /**
   * Where the once-per-burst log lines go (the first degraded decision, then the recovery).
   * Default: warnings to `console.warn`.
   */
  readonly onLog?: (event: BurstLogEvent) => void
  /** Time source of the in-process backend, for tests. Redis uses its own clock. */
  readonly clock?: Clock
}

/** Options of one rate-limit decision: its weight. */
export interface ConsumeOptions {
  /** Weight of this request. Default 1; 0 reports without spending. */
  readonly cost?: number
}

/** What a limiter has done, for dashboards and alerts: degraded decisions are never silent. */
export interface RateLimiterStats {
  /** Decisions made (consume and peek). */
  readonly decisions: number
  /** Decisions the failure policy made because the shared store failed or was out. */
  readonly degraded: number
  /** Of those, the ones decided by the in-process limiter (`onFailure: 'local'`). */
  readonly localDecisions: number
  /** Of those, the ones decided by the `insurance` limiter. */
  readonly insuranceDecisions: number
  /** Store failures seen (a timeout, a refused connection, a script error). */
  readonly errors: number
  /** Decisions that waited for the store's first connection. */
  readonly startupWaits: number
  /** Refusals answered from the deny cache, without a store call. */
  readonly denyCacheHits: number
  /** Script calls sent to Redis (0 on the memory store). */
  readonly roundTrips: number
}

/** A rate limiter over named rules: `consume` decides one request, `peek`, `reset` and `stats` help operate it. */
export interface RateLimiter<S extends string = string> {
  readonly scopes: readonly S[]
  /** Spends `cost` from every policy of `scope` for `key`, or nothing when any refuses. */
  consume(scope: S, key: string, options?: ConsumeOptions): Promise<RateLimitResult>
  /** Reports whether `cost` would pass now, spending nothing. */
  peek(scope: S, key: string, options?: ConsumeOptions): Promise<RateLimitResult>
  /** Forgets `key`'s counters and blocks in `scope`. */
  reset(scope: S, key: string): Promise<void>
  /** The parsed policies of a scope (for `RateLimit-Policy` headers). */
  policies(scope: S): readonly Policy[]
  /** Script calls sent to Redis so far (0 on the memory store): one per decision at most. */
  readonly roundTrips: number
  stats(): RateLimiterStats
  /**
   * Stops the deny-cache subscription and any startup wait; settles within 2 s whatever the store
   * does, and the store is left open (it belongs to the caller). Later calls reject with
   * `CacheClosedError`. Idempotent.
   */
  close(): Promise<void>
  /**
   * Gives `points` back to `key` on every policy of `scope` (a request that should not count, e.g.
   * one that failed), never beyond a whole allowance; a refusal cached for `key` is forgotten on
   * every instance, so the next request is decided afresh. A `blockFor` block stays.
   */
  reward(scope: S, key: string, points?: number): Promise<void>
  /**
   * Takes `points` from `key` on every policy of `scope` without a decision. It may go past the
   * limit: later requests are refused until the algorithm has recovered them (at most two windows
   * for the window algorithms, which forget older windows).
   */
  penalty(scope: S, key: string, points?: number): Promise<void>
  /**
   * Refuses every request of `key` in `scope` for `duration` (`'15m'` or milliseconds), whatever
   * the policies say; on Redis every process sees it. `reset` lifts it early.
   */
  block(scope: S, key: string, duration: Duration): Promise<void>
}
