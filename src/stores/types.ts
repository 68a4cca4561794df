import type { MaybePromise } from '../internal/index.js'

/**
 * What a store can do beyond the required core. The cache reads these to decide how to encode
 * values and what it can promise; the conformance suite reads them to decide what to test.
 */
export interface StoreCapabilities {
  /**
   * `'value'`: the store keeps live JavaScript values (memory); the cache hands it values as they
   * are and a hit costs no decode. `'bytes'`: the store keeps encoded entries (Redis, SQL); the
   * cache encodes with its codec before writing and decodes after reading.
   */
  readonly valueKind: 'value' | 'bytes'
  /** `add` and `incr` are atomic for every client of the store, across processes if it is shared. */
  readonly atomic: boolean
  /** Several processes see the same entries (Redis, SQL), as opposed to one process's memory. */
  readonly shared: boolean
  /** The store implements `deleteByTag` itself. */
  readonly tags: boolean
}

/** Options of one write. `ttl` is already resolved: milliseconds > 0, or `null` for no expiry. */
export interface StoreWriteOptions {
  readonly ttl: number | null
  readonly tags?: readonly string[] | undefined
}

/** One entry of a store `setMany` call: key, value, and its TTL and tags. */
export interface StoreWrite extends StoreWriteOptions {
  readonly key: string
  readonly value: unknown
}

/** An entry with its absolute expiry (epoch milliseconds, `null` = never). */
export interface StoreEntry {
  readonly value: unknown
  readonly expiresAt: number | null
}

/** Figures a store reports about itself, for `cache.stats()`. */
export interface StoreStats {
  readonly entries?: number
  readonly bytes?: number
  readonly evictions?: number
  /** Failures the store absorbed itself (an `onError: 'ignore'` policy, a lost bus message). */
  readonly errors?: number
}

/**
 * The methods every store must have. Keys reach the store complete (prefix, namespaces and
 * version applied) and valid; values are live values or `Uint8Array`s according to
 * `capabilities.valueKind`. Return `undefined` from `get` for a miss. A method may answer
 * synchronously: the cache awaits only what is a promise, which keeps in-memory hits cheap.
 */
export interface StoreCore {
  readonly name: string
  readonly capabilities: StoreCapabilities
  /** The value, `undefined` for a miss; throw `CorruptValueError` for an entry that cannot be read (the cache counts it as a miss). */
  get(key: string): MaybePromise<unknown>
  set(key: string, value: unknown, options: StoreWriteOptions): MaybePromise<void>
  delete(key: string): MaybePromise<boolean>
  /** Yields every live key matching a Redis glob pattern (test keys with `globMatcher`). */
  keys(pattern: string): AsyncIterable<string>
  close(): MaybePromise<void>
  /**
   * False while the store knows calls cannot succeed (disconnected, circuit open): a cache with a
   * `fallback` checks it before each call. Optional; stores without it are probed.
   */
  available?(): boolean
  /**
   * Resolves once the store can serve calls (its first connection is made), or rejects with a
   * `StoreUnavailableError` after its connect timeout. Optional; stores without it are ready at once.
   * An app may await it (through `cache.ready()`) before it starts listening.
   */
  ready?(): Promise<void>
  /**
   * Leases for `getOrSet`'s single flight across processes (optional; shared stores offer it).
   * The cache uses them by default when present.
   */
  leases?(): StoreLeases
  /**
   * Access to the keys under `base` passed without it, or `undefined` when the store has no faster
   * way than `get(base + key)`. Optional; the memory store offers it to the first cache built on
   * it, so that cache's hits skip building and hashing a new key string.
   */
  scoped?(base: string): ScopedAccess | undefined
}

/** See {@link StoreCore.scoped}: `get` and `set` of a key under one base, given without it. */
export interface ScopedAccess {
  get(key: string): unknown
  set(key: string, value: unknown, options: StoreWriteOptions): void
}

/**
 * A lease per key, held by a token: the holder computes the value while every other process waits
 * for word that it is done. Only the holder can renew or release it; an abandoned lease expires.
 */
export interface StoreLeases {
  /** Takes the lease for `ttl` ms; false when another token holds it. */
  acquire(key: string, token: string, ttl: number): Promise<boolean>
  /** Extends the lease if `token` still holds it. */
  renew(key: string, token: string, ttl: number): Promise<boolean>
  /** Ends the lease if `token` holds it, and tells every waiter in every process. */
  release(key: string, token: string): Promise<void>
  /**
   * Starts waiting for the lease on `key` to end (released, or else `timeout` ms). Register first,
   * then re-check the value, so a release between the two is not missed.
   */
  wait(key: string, timeout: number): { readonly done: Promise<void>; cancel(): void }
}

/**
 * Methods a store may add. Where one is missing, {@link completeStore} supplies a generic version
 * built on the core; the generic `add`, `incr` and `touch` are not atomic, which a store declares
 * with `capabilities.atomic: false`.
 */
export interface StoreExtras {
  getEntry(key: string): MaybePromise<StoreEntry | undefined>
  has(key: string): MaybePromise<boolean>
  /** Sets only when the key is absent; true when it wrote. */
  add(key: string, value: unknown, options: StoreWriteOptions): MaybePromise<boolean>
  getMany(keys: readonly string[]): MaybePromise<readonly unknown[]>
  setMany(writes: readonly StoreWrite[]): MaybePromise<void>
  deleteMany(keys: readonly string[]): MaybePromise<number>
  /**
   * Adds `delta` to an integer entry (a missing one counts from 0, created with `options.ttl`).
   * A store that absorbs failures (`onError: 'ignore'`) resolves to `delta`, as if the key were new.
   */
  incr(key: string, delta: number, options: StoreWriteOptions): MaybePromise<number>
  /** Gives a live entry a new TTL; false when it is missing. */
  touch(key: string, ttl: number | null): MaybePromise<boolean>
  /** Milliseconds left; `null` = never expires; `undefined` = missing. */
  ttl(key: string): MaybePromise<number | null | undefined>
  deletePattern(pattern: string): MaybePromise<number>
  deleteByTag(tag: string): MaybePromise<number>
  /**
   * Makes every entry written with the tag stale at `staleAt` (epoch ms), keeping value and TTL:
   * reads miss it, `getOrSet` serves it as grace while one refresh runs. An entry that cannot be
   * marked (a bare integer in a byte store) is deleted. Resolves to how many entries it touched.
   */
  expireByTag(tag: string, staleAt: number): MaybePromise<number>
  stats(): StoreStats
}

/** A store as the cache sees it: the core plus whatever extras it implements. */
export type Store = StoreCore & Partial<StoreExtras>

/** A store with every method present, as returned by {@link completeStore}. */
export type CompleteStore = StoreCore & StoreExtras
