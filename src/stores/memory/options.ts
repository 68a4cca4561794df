import type { Clock } from '../../internal/index.js'

/**
 * What a caller gets back from a read, and so what mutating it can do.
 *
 * - `'freeze'` (default): values are deep-copied on write and their objects and arrays frozen; a
 *   `Date`, `Map` or `Set` inside is kept as a frozen read-only instance (still `instanceof
 *   Date`/`Map`/`Set`, same `constructor`, encodes and `structuredClone`s as the built-in). A read
 *   returns the stored value itself, no copy (the same object on every read), and a mutation
 *   throws instead of silently changing the cache: a `TypeError` (strict mode) for objects and
 *   arrays, `ImmutableValueError` (`E_VALUE_IMMUTABLE`) for `Date` setters and `Map`/`Set`
 *   `set`/`add`/`delete`/`clear`. Typed arrays (`Uint8Array`, `Buffer`, ...) cannot be made
 *   read-only: a read gets fresh copies of those (and of the frozen objects on the way to them,
 *   every other part shared), so mutating one changes only the caller's copy.
 * - `'clone'`: a deep copy on write and on every read; callers get mutable values. Slowest reads.
 * - `'reference'`: the caller's own object is kept and returned, like lru-cache. Fastest, and a
 *   mutation by anyone is seen by everyone: only for values you never mutate.
 */
export type MutationPolicy = 'freeze' | 'clone' | 'reference'

/** Options of `memoryStore`: bounds by entries and bytes, the value policy and the clock. */
export interface MemoryStoreOptions {
  /** The most entries kept; the least recently used goes first (a read counts as a use). Default 10,000. */
  readonly maxEntries?: number
  /** The most bytes kept, by an estimate of each value's size; evicts least recently used. */
  readonly maxBytes?: number
  /** See {@link MutationPolicy}. Default `'freeze'`. */
  readonly mutation?: MutationPolicy
  /** The time source, for tests. Default `Date.now`. */
  readonly clock?: Clock
}
