import type { Clock } from '../internal/index.js'
import { backingOf, type StateAccess, type StateWrite } from '../stores/index.js'
import { IMPLEMENTATIONS } from './algorithms/index.js'
import {
  type Backing,
  blockKey,
  type Mode,
  type PolicyOutcome,
  type RateBackend,
  resolveBacking,
  type StateMap,
  stateKey,
} from './backend.js'
import { DecisionBatcher, type PendingDecision, settle } from './batcher.js'
import { MemoryRateBackend } from './memory-backend.js'
import { RedisRateBackend } from './redis-backend.js'
import type { Policy } from './rules.js'
import { manualBlockKey, type RateWriter } from './writer.js'

/** The most decisions one transaction makes (their rows are all locked until it commits). */
const MAX_BATCH = 32

/** Where a rate limiter's counters live: in memory, in Redis, or in a SQL store's state table. */
export type RateBacking = Backing | { readonly kind: 'sql'; readonly state: StateAccess }

/** A limiter's backing: a SQL store (or a cache or tiers on one) besides what {@link resolveBacking} takes. */
export function resolveRateBacking(store: unknown, clock: Clock): RateBacking {
  const declared = backingOf(store)
  // A SQL store of a copy of cachekit from before the state table declares no `state`: refused.
  if (declared?.kind === 'sql' && typeof declared.state?.update === 'function') {
    return { kind: 'sql', state: declared.state }
  }
  return resolveBacking(store, 'createRateLimiter', clock)
}

/** The backend deciding on `backing`. */
export function rateBackendOf(backing: RateBacking, clock: Clock): RateBackend & RateWriter {
  if (backing.kind === 'redis') return new RedisRateBackend(backing.runner)
  if (backing.kind === 'sql') return new SqlRateBackend(backing.state)
  return new MemoryRateBackend(backing.map, clock)
}

/**
 * The view of a locked set of rows the memory backend decides on: reads see the rows as read (or
 * as written in this step), writes are recorded for the transaction to make.
 */
class RowsMap implements StateMap {
  readonly writes = new Map<string, StateWrite>()
  constructor(
    readonly values: ReadonlyMap<string, unknown>,
    readonly now: number,
  ) {}

  get(key: string): unknown {
    const written = this.writes.get(key)
    if (written !== undefined) return written?.value
    return this.writes.has(key) ? undefined : this.values.get(key)
  }

  set(key: string, value: unknown, ttlMs: number | null): void {
    const expiresAt = ttlMs === null ? Number.MAX_SAFE_INTEGER : this.now + Math.max(1, Math.ceil(ttlMs))
    this.writes.set(key, { value, expiresAt })
  }

  delete(key: string): void {
    this.writes.set(key, null)
  }
}

/**
 * Decisions in a SQL store (PostgreSQL, MySQL/MariaDB, SQLite). Each request is one transaction:
 * the rows of its keys are locked in key order and read with the database's clock, the memory
 * backend's arithmetic ({@link MemoryRateBackend.decideNow}, the same algorithms) runs on them,
 * and what it wrote goes back before the commit. Processes sharing the database therefore share
 * one exact count, as with Redis, at a few round trips per transaction instead of one. As on
 * Redis, the decisions of one scope asked in the same tick share a transaction (up to
 * {@link MAX_BATCH}), each decided in turn on the rows as the one before left them: a burst
 * neither queues for the pool connection by connection nor pays a transaction per request.
 */
export class SqlRateBackend implements RateBackend, RateWriter {
  /** Statements sent, `BEGIN` and `COMMIT` included (0 on SQLite): round trips per decision. */
  readonly trips = { count: 0 }
  /** Decisions made, for the same accounting. */
  decisions = 0
  readonly #batcher = new DecisionBatcher(MAX_BATCH, (policies, waiting) => this.#send(policies, waiting))

  /** `clock` replaces the database's clock (tests only). */
  constructor(
    readonly state: StateAccess,
    readonly clock?: Clock,
  ) {}

  get calls(): number {
    return this.trips.count
  }

  decide(base: string, policies: readonly Policy[], cost: number, mode: Mode): Promise<PolicyOutcome[]> {
    this.decisions++
    return this.#batcher.add(base, policies, cost, mode)
  }

  /** One transaction for the decisions of one scope asked in the same tick, decided in turn. */
  #send(policies: readonly Policy[], waiting: readonly PendingDecision[]): void {
    const keys: string[] = []
    for (const { base } of waiting) {
      keys.push(manualBlockKey(base))
      for (const [i, policy] of policies.entries()) {
        keys.push(stateKey(base, i, policy, IMPLEMENTATIONS[policy.algorithm].code))
        if (policy.blockMs > 0) keys.push(blockKey(base, i))
      }
    }
    settle(
      waiting,
      this.#apply('rate limit decision', keys, (memory) =>
        waiting.map((w) => memory.decideNow(w.base, policies, w.cost, w.mode)),
      ),
    )
  }

  async adjust(base: string, policies: readonly Policy[], points: number): Promise<void> {
    const keys = policies.map((policy, i) =>
      stateKey(base, i, policy, IMPLEMENTATIONS[policy.algorithm].code),
    )
    await this.#apply('rate limit adjust', keys, (memory) => memory.adjustNow(base, policies, points))
  }

  async block(base: string, ms: number): Promise<void> {
    const key = manualBlockKey(base)
    await this.#apply('rate limit block', [key], (memory) => memory.map.set(key, memory.clock.now() + ms, ms))
  }

  async reset(base: string, policies: readonly Policy[]): Promise<void> {
    const keys = [manualBlockKey(base)]
    for (const [i, policy] of policies.entries()) {
      keys.push(stateKey(base, i, policy, IMPLEMENTATIONS[policy.algorithm].code), blockKey(base, i))
    }
    await this.#apply('rate limit reset', keys, (memory) => {
      for (const key of keys) memory.map.delete(key)
    })
  }

  #apply<T>(op: string, keys: readonly string[], work: (memory: MemoryRateBackend) => T): Promise<T> {
    return this.state.update(
      op,
      keys,
      (now, values) => {
        const rows = new RowsMap(values, now)
        const result = work(new MemoryRateBackend(rows, { now: () => now }))
        return { result, writes: rows.writes }
      },
      { clock: this.clock, trips: this.trips },
    )
  }
}
