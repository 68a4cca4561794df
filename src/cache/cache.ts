import { Envelope, UNDEFINED } from '../codec/index.js'
import { CorruptValueError, InvalidOptionError, InvalidTtlError, withKey } from '../errors.js'
import { type Ttl, ttlToMs } from '../internal/index.js'
import { channel, timingStart } from '../observe/index.js'
import type { Store } from '../stores/index.js'
import { BACKING, type Backing, backingThrough } from '../stores/index.js'
import * as bulk from './bulk.js'
import { type CachedFunction, type CachedOptions, cached, type MethodDecorator } from './cached.js'
import { CLOSE_WAIT_MS, closeShared } from './close.js'
import { CacheContext, type Scope } from './context.js'
import { type Factory, type GetOrSetOptions, getOrSet, getOrSetNow } from './get-or-set.js'
import { retime } from './graced.js'
import { assertKey, assertSegment, SEPARATOR } from './keys.js'
import { noteChange, type Read, type Shared } from './shared.js'
import { type CacheStats, collectStats } from './stats.js'
import { checkVersion, copyToVersion } from './versions.js'

/** Options of `cache.set`: the TTL and tags of this entry. */
export interface SetOptions {
  /** Overrides the cache's default TTL for this write. `0` stores nothing (and removes an old value). */
  readonly ttl?: Ttl
  /** Tags to invalidate this entry by, with `deleteByTag`. */
  readonly tags?: readonly string[]
}

/**
 * A cache over one store: the operations of Django's cache API and more, all async, all reporting
 * bad input as a rejected promise with a typed error (never a synchronous throw). Create one with
 * `createCache`; derive namespaces with `namespace()` and other key versions with `withVersion()`.
 */
export class Cache {
  readonly #ctx: CacheContext

  // Private, so no public constructor: caches come from `createCache`, `namespace()`, `withVersion()`.
  private constructor(shared: Shared, scope: Scope, parent?: Cache) {
    this.#ctx = new CacheContext(shared, scope, parent === undefined ? undefined : parent.#ctx)
  }

  /** @internal For `createCache`. */
  static open(shared: Shared, scope: Scope): Cache {
    return new Cache(shared, scope)
  }

  /** Stands for the store it was built on (see {@link BACKING}). */
  [BACKING](): Backing {
    return backingThrough(this.#ctx.shared.original)
  }

  /** The store this cache was built on (with `tiers`, the two tiers as one `TieredStore`). */
  get store(): Store {
    return this.#ctx.shared.original
  }

  /** The root cache's prefix (empty string for none), as events and metrics name the cache. */
  get prefix(): string {
    return this.#ctx.shared.prefix
  }

  /** This cache's namespace path below the prefix (`'user'`, `'user:settings'`), empty for the root. */
  get namespacePath(): string {
    return this.#ctx.scope.namespace
  }

  /** The exact key this cache writes to the store for `key`. */
  makeKey(key: string): string {
    assertKey(key, this.#ctx.shared.maxKeyLength)
    return this.#ctx.base + key
  }

  /**
   * The value, or `undefined` on a miss (an expired or unreadable entry is a miss). With a
   * `defaultValue` (Django's `get(key, default)`), a miss resolves to it instead; a stored
   * `undefined` is a value, not a miss, and comes back as `undefined`.
   */
  get<T = unknown>(key: string): Promise<T | undefined>
  get<T>(key: string, defaultValue: T): Promise<T>
  get<T = unknown>(key: string, ...rest: [defaultValue?: T]): Promise<T | undefined> {
    if (rest.length > 0) return this.#getOr(key, rest[0] as T)
    const ctx = this.#ctx
    const start = timingStart()
    try {
      const scoped = ctx.scoped
      const raw =
        scoped !== undefined &&
        typeof key === 'string' &&
        key.length > 0 &&
        key.length <= ctx.shared.maxKeyLength &&
        !ctx.isClosed()
          ? scoped.get(key)
          : ctx.shared.store.get(ctx.full(key))
      if (raw instanceof Promise) {
        return raw.then(
          (value) => {
            const read = ctx.count(key, value)
            if (start >= 0) ctx.timed(start, 'get', read.state === 'fresh' ? 'hit' : 'miss', 'l2')
            return freshValue(read) as T | undefined
          },
          (error) => {
            if (start >= 0) ctx.timed(start, 'get', 'error', 'l2', error)
            return this.#unreadable(key, error)
          },
        )
      }
      // Memory hit fast path: a live value needs no decoding and no Read object.
      if (
        raw !== undefined &&
        ctx.shared.codec === undefined &&
        raw !== UNDEFINED &&
        !(raw instanceof Envelope)
      ) {
        ctx.counters.hits++
        ctx.counters.l1Hits++
        if (channel.hit.hasSubscribers) channel.hit.publish(ctx.event('hit', key))
        if (start >= 0) ctx.timed(start, 'get', 'hit', 'l1')
        return Promise.resolve(raw as T)
      }
      const read = ctx.count(key, raw, true)
      if (start >= 0) ctx.timed(start, 'get', read.state === 'fresh' ? 'hit' : 'miss', 'l1')
      return Promise.resolve(freshValue(read) as T | undefined)
    } catch (error) {
      if (error instanceof CorruptValueError) return Promise.resolve(this.#unreadable(key, error))
      return Promise.reject(withKey(error, key))
    }
  }

  async #getOr<T>(key: string, defaultValue: T): Promise<T> {
    const ctx = this.#ctx
    let read: Read
    let sync = false
    try {
      ctx.full(key)
      const pending = ctx.read(key)
      sync = !(pending instanceof Promise)
      read = await pending
    } catch (error) {
      throw withKey(error, key)
    }
    if (read.state === 'fresh') {
      if (sync) ctx.counters.l1Hits++
      ctx.hit(key)
      return read.value as T
    }
    ctx.count(key, undefined)
    return defaultValue
  }

  /** A read the store failed: an unreadable entry counts as a miss; any other failure rejects. */
  #unreadable(key: string, error: unknown): undefined {
    this.#ctx.readFailed(key, error)
    this.#ctx.count(key, undefined)
    return undefined
  }

  /** Writes a value. A TTL of `0` stores nothing and removes any value already there. */
  set(key: string, value: unknown, options?: bulk.TierSetOptions): Promise<void> {
    const ctx = this.#ctx
    try {
      const full = ctx.full(key)
      const ttl = ctx.ttl(options?.ttl, key)
      const tags = ctx.tags(options?.tags, key)
      if (bulk.routed(options)) return bulk.tierSet(ctx, key, full, value, ttl, tags, options)
      if (ttl === 0) {
        noteChange(ctx.shared, [full])
        return ctx.call('delete', key, () => ctx.shared.store.delete(full)).then(() => undefined)
      }
      return ctx.write(key, full, value, ttl, tags)
    } catch (error) {
      return Promise.reject(withKey(error, key))
    }
  }

  /** Writes only if the key is absent (atomic in stores that say so); true when it wrote. */
  async add(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const ctx = this.#ctx
    const full = ctx.full(key)
    const ttl = ctx.ttl(options?.ttl, key)
    const tags = ctx.tags(options?.tags, key)
    const stored = ctx.encode(value, key)
    if (ttl === 0) return !(await this.has(key))
    noteChange(ctx.shared, [full])
    const added = await ctx.call('add', key, () => ctx.shared.store.add(full, stored, { ttl, tags }))
    if (added) ctx.counters.sets++
    return added
  }

  /** True when a fresh value is stored under the key. Counts as a use for LRU, not as a hit. */
  async has(key: string): Promise<boolean> {
    return (await this.#ctx.read(key)).state === 'fresh'
  }

  /** Removes the key; true when it existed. */
  async delete(key: string): Promise<boolean> {
    const ctx = this.#ctx
    const full = ctx.full(key)
    noteChange(ctx.shared, [full])
    const deleted = await ctx.call('delete', key, () => ctx.shared.store.delete(full))
    if (deleted) ctx.deleted(key, 1)
    return deleted
  }

  /** The keys found, with their values, in one store round trip where the store batches. */
  getMany<T = unknown>(keys: Iterable<string>): Promise<Map<string, T>> {
    return bulk.getMany<T>(this.#ctx, keys)
  }

  /** Writes several entries with the same options; a value that cannot be stored aborts them all. */
  setMany(
    entries: Readonly<Record<string, unknown>> | Iterable<readonly [string, unknown]>,
    options?: SetOptions,
  ): Promise<void> {
    return bulk.setMany(this.#ctx, entries, options)
  }

  /** Removes the keys; resolves to how many existed. */
  deleteMany(keys: Iterable<string>): Promise<number> {
    return bulk.deleteMany(this.#ctx, keys)
  }

  /**
   * Adds `delta` (default 1) to an integer entry atomically and resolves to the new value. A
   * missing key counts from 0 and is created with `options.ttl` or the default TTL; an existing
   * one keeps its TTL.
   */
  async incr(key: string, delta = 1, options?: Pick<SetOptions, 'ttl'>): Promise<number> {
    const ctx = this.#ctx
    const full = ctx.full(key)
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidOptionError(`incr/decr step must be a safe integer, got ${String(delta)}`, { key })
    }
    const ttl = ctx.ttl(options?.ttl, key)
    if (ttl === 0)
      throw new InvalidTtlError('incr/decr needs a TTL > 0 or null: a TTL of 0 stores nothing', { key })
    const result = await ctx.call('incr', key, () => ctx.shared.store.incr(full, delta, { ttl }))
    ctx.counters.sets++
    return result
  }

  /** Subtracts `delta` (default 1); see {@link Cache.incr}. */
  decr(key: string, delta = 1, options?: Pick<SetOptions, 'ttl'>): Promise<number> {
    return this.incr(key, typeof delta === 'number' ? -delta : delta, options)
  }

  /**
   * Gives an existing entry a new TTL (`null`: never expires; `0`: expire now); false if missing.
   * An entry written with a grace period (by `getOrSet`) keeps it: its fresh time becomes `ttl`
   * and its hard expiry `ttl` plus the grace, so it is rewritten rather than only re-timed.
   */
  async touch(key: string, ...rest: [ttl?: Ttl]): Promise<boolean> {
    const ctx = this.#ctx
    const full = ctx.full(key)
    // No TTL given: the cache's (or namespace's) default, as Django's `touch(key)` does.
    const ms = rest.length === 0 || rest[0] === undefined ? ctx.ttl(undefined, key) : ttlToMs(rest[0], key)
    if (ms === 0) return this.delete(key)
    return retime(ctx, key, full, ms)
  }

  /** Milliseconds left; `null` = never expires; `undefined` = missing. Includes any grace period. */
  async ttl(key: string): Promise<number | null | undefined> {
    const ctx = this.#ctx
    const full = ctx.full(key)
    return ctx.call('ttl', key, () => ctx.shared.store.ttl(full))
  }

  /**
   * The value if fresh; otherwise calls `factory` once per key however many callers ask at the
   * same time, stores its result and resolves every caller with it. See {@link GetOrSetOptions}
   * for grace periods and timeouts.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions<T>): Promise<T>
  /**
   * The value if fresh; otherwise stores `value` and resolves to it (Django's
   * `get_or_set(key, default)`). A function is always called as a factory, and `undefined` is
   * refused as a missing factory.
   */
  getOrSet<T>(key: string, value: Exclude<T, Function>, options?: GetOrSetOptions<T>): Promise<T>
  getOrSet<T>(key: string, factory: Factory<T> | T, options?: GetOrSetOptions<T>): Promise<T> {
    // `undefined` is left to getOrSet's own check: a missing factory is likelier a bug (typed error).
    const make = typeof factory === 'function' || factory === undefined ? factory : () => factory
    return getOrSet(this.#ctx, key, make as Factory<T>, options)
  }

  /** @internal `getOrSet`, answering `{ value }` at once on a fresh value the store gave synchronously. */
  getOrSetNow<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions<T>): { value: T } | Promise<T> {
    return getOrSetNow(this.#ctx, key, factory, options)
  }

  /**
   * Wraps a function so its results are cached by its arguments, or (called with options only)
   * makes a method decorator. See {@link CachedOptions}.
   */
  cached<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: CachedOptions<A, R>,
  ): CachedFunction<A, R>
  cached<A extends unknown[], R>(options: CachedOptions<A, R>): MethodDecorator<A, R>
  cached<A extends unknown[], R>(
    fnOrOptions: ((...args: A) => R | Promise<R>) | CachedOptions<A, R>,
    options?: CachedOptions<A, R>,
  ): CachedFunction<A, R> | MethodDecorator<A, R> {
    return cached<A, R>(this, fnOrOptions, options)
  }

  /** Removes every entry written with this tag, in any namespace; resolves to how many. */
  deleteByTag(tag: string): Promise<number> {
    return bulk.deleteByTag(this.#ctx, tag)
  }

  /**
   * Makes every entry written with this tag stale instead of removing it: `get` misses it, while
   * `getOrSet` keeps answering with it (as grace) while one refresh runs. Resolves to how many
   * entries it touched. A bare integer (a counter) is removed instead.
   */
  expireByTag(tag: string): Promise<number> {
    return bulk.expireByTag(this.#ctx, tag)
  }

  /** Makes one entry stale as {@link Cache.expireByTag} does (see README for tags); false if missing. */
  expire(key: string): Promise<boolean> {
    return bulk.expire(this.#ctx, key)
  }

  /** Removes the keys matching a glob (`*`, `?`, `[abc]`) under this cache; resolves to how many. */
  deletePattern(pattern: string): Promise<number> {
    return bulk.deletePattern(this.#ctx, pattern)
  }

  /** Yields this cache's keys matching a glob (default all), without prefix or namespace. */
  keys(pattern = '*'): AsyncGenerator<string> {
    return bulk.keys(this.#ctx, pattern)
  }

  /** Removes every key under this cache's prefix and namespace (all versions), and nothing else. */
  clear(): Promise<void> {
    return bulk.clear(this.#ctx)
  }

  /** A child cache whose keys live under `name:` and whose stats are counted apart. */
  namespace(name: string, options: { ttl?: Ttl } = {}): Cache {
    const { scope } = this.#ctx
    this.#ctx.open()
    assertSegment(name, 'A namespace')
    const namespace = scope.namespace ? `${scope.namespace}${SEPARATOR}${name}` : name
    const ttl = options.ttl === undefined ? scope.ttl : ttlToMs(options.ttl)
    return new Cache(this.#ctx.shared, { ...scope, namespace, ttl }, this)
  }

  /** The same cache reading and writing keys of another version. */
  withVersion(version: number): Cache {
    this.#ctx.open()
    return new Cache(this.#ctx.shared, { ...this.#ctx.scope, version: checkVersion(version) }, this)
  }

  /**
   * Moves a key's value to the next version (Django's `incr_version`) and resolves to the new
   * version number; read it with `cache.withVersion(n)`. Needs `createCache({ version })`.
   */
  async incrVersion(key: string, delta = 1): Promise<number> {
    const to = await copyToVersion(this.#ctx, key, delta)
    await this.delete(key)
    return to
  }

  /** Moves a key's value back to an earlier version (Django's `decr_version`; never below 0). */
  decrVersion(key: string, delta = 1): Promise<number> {
    return this.incrVersion(key, -delta)
  }

  /**
   * Resolves once the store can serve calls (a Redis store has made its first connection), or
   * rejects with a `StoreUnavailableError` after the store's connect timeout. Await it before the
   * app starts listening; calls made before it wait for the first connection anyway, once.
   */
  async ready(): Promise<void> {
    await this.#ctx.shared.store.ready?.()
  }

  /** Counters for this cache and the namespaces below it. */
  stats(): CacheStats {
    return collectStats(this.#ctx.shared, this.#ctx.scope.namespace)
  }

  /**
   * Closes this cache and the namespaces made from it. Closing a root cache first finishes what
   * it owes the store (writes under way, lease releases, background refreshes), waiting for that
   * at most {@link CLOSE_WAIT_MS}; then gives up factories still running (their callers get
   * `CacheClosedError`, their leases are released) and releases the store, which closes once no
   * other cache uses it. Idempotent; calls made after it reject with `CacheClosedError`.
   */
  async close(): Promise<void> {
    const ctx = this.#ctx
    if (ctx.closed) return
    ctx.closed = true
    if (ctx.parent === undefined) await closeShared(ctx.shared)
  }
}

const freshValue = (read: Read): unknown => (read.state === 'fresh' ? read.value : undefined)
