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
  | { readonly kind: 'sql'; readonly store: SqlStore }
  | { readonly kind: 'other'; readonly store: Store }

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
