import type { MemoryStore } from './memory/index.js'
import type { RedisStore } from './redis/index.js'
import type { SqlStore } from './sql/index.js'
import type { Store } from './types.js'

/**
 * How a store, a tiered store or a cache says what stands behind it, so the other doors (rate
 * limiting, sessions, locks, channels, the admin page) choose by what it declares, never by
 * `instanceof`: a class check imports the class's module (the cache core) into the door that
 * makes it, and fails for an object from a second copy of cachekit in the same app. The key is a
 * registered symbol, so every copy reads the same one.
 */
export const BACKING: unique symbol = Symbol.for('cachekit.backing')

/**
 * What stands behind: the cachekit memory store (synchronous, this process), the cachekit Redis
 * store (scripts and pub/sub), a SQL store, or another store (`name` says which).
 */
export type Backing =
  | { readonly kind: 'memory'; readonly store: MemoryStore }
  | { readonly kind: 'redis'; readonly store: RedisStore }
  | { readonly kind: 'sql'; readonly store: SqlStore; readonly state: StateAccess }
  | { readonly kind: 'other'; readonly store: Store }

/** A key's new value in {@link StateAccess.update}: JSON-able, until `expiresAt` (epoch ms); `null` deletes. */
export type StateWrite = { readonly value: unknown; readonly expiresAt: number } | null

/** What {@link StateAccess.update}'s `apply` returns: the caller's answer and the writes to make. */
export interface StateUpdate<T> {
  readonly result: T
  readonly writes: ReadonlyMap<string, StateWrite>
}

/** Options of one {@link StateAccess.update}. */
export interface StateUpdateOptions {
  /** Replaces the database's clock (tests). */
  readonly clock?: { now(): number } | undefined
  /** Incremented per statement sent, `BEGIN` and `COMMIT` included (not for SQLite). */
  readonly trips?: { count: number } | undefined
}

/**
 * Small JSON states kept in a SQL store's `<table>_rate` table for request protection (the rate
 * limiter): each update locks its keys' rows, reads them with the database's clock, applies a
 * synchronous function and writes back, in one transaction, under the store's timeout and retries.
 */
export interface StateAccess {
  /**
   * Locks `keys` (sorted), reads their live values and the database's time in ms, calls `apply`
   * (again on a retry: keep it pure) and writes what it returns.
   */
  update<T>(
    op: string,
    keys: readonly string[],
    apply: (now: number, values: ReadonlyMap<string, unknown>) => StateUpdate<T>,
    options?: StateUpdateOptions,
  ): Promise<T>
  /** Statements sent so far, `BEGIN` and `COMMIT` included (0 for SQLite, which has no network). */
  readonly roundTrips: number
}

/** An object that declares its {@link Backing}. */
export interface Backed {
  [BACKING](): Backing
}

/** What `value` declares it is backed by; `undefined` when it declares nothing. */
export function backingOf(value: unknown): Backing | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const declare = (value as Partial<Backed>)[BACKING]
  return typeof declare === 'function' ? declare.call(value) : undefined
}

/** The backing of a store that wraps or stands for `store` (a cache, a tiered store's shared tier). */
export function backingThrough(store: Store): Backing {
  return backingOf(store) ?? { kind: 'other', store }
}
