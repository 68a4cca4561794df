import { type Codec, type CodecOptions, createCodec } from '../codec/codec.js'
import { CacheClosedError, CacheError, InvalidOptionError, InvalidTtlError, withKey } from '../errors.js'
import { type Clock, systemClock } from '../internal/clock.js'
import { type Duration, requireDuration, type Ttl, ttlToMs } from '../internal/duration.js'
import { escapeGlob } from '../internal/glob.js'
import { type CacheEvent, type CacheEventType, channel } from '../observe/channels.js'
import { completeStore } from '../stores/complete.js'
import type { Store } from '../stores/types.js'
import { type CachedFunction, type CachedOptions, cached, type MethodDecorator } from './cached.js'
import { type CacheInternals, type Factory, type GetOrSetOptions, getOrSet } from './get-or-set.js'
import { assertKey, assertSegment, MAX_KEY_LENGTH, SEPARATOR } from './keys.js'
import { acquireStore, interpret, MISS, type Read, releaseStore, type Shared, toStored } from './shared.js'
import { type CacheStats, Counters, summarize } from './stats.js'

export interface CacheOptions {
  /** Where entries live: `memoryStore()`, `redisStore()`, or any store that meets the contract. */
  readonly store: Store
  /** Every key this cache writes starts with `prefix:`. `clear()` removes only keys under it. */
  readonly prefix?: string
  /** Default TTL of writes that name none. Default `null`: entries never expire unless told to. */
  readonly ttl?: Ttl
  /** Key version (Django's `VERSION`): keys become `prefix:v<version>:key`; bump it to ignore old entries. */
  readonly version?: number
  /** How values are encoded for stores that keep bytes. Ignored by the memory store. */
  readonly codec?: CodecOptions | Codec
  /** The longest key a caller may pass. Default {@link MAX_KEY_LENGTH} (1024). */
  readonly maxKeyLength?: number
  /** Defaults for `getOrSet`: grace period, soft and hard timeouts. */
  readonly getOrSet?: Omit<GetOrSetOptions<unknown>, 'ttl' | 'tags'>
  /** The time source, for tests. Default `Date.now`. */
  readonly clock?: Clock
}

export interface SetOptions {
  /** Overrides the cache's default TTL for this write. `0` stores nothing (and removes an old value). */
  readonly ttl?: Ttl
  /** Tags to invalidate this entry by, with `deleteByTag`. */
  readonly tags?: readonly string[]
}

interface Scope {
  readonly namespace: string
  readonly version: number | undefined
  readonly ttl: number | null
  readonly getOrSet: Omit<GetOrSetOptions<unknown>, 'ttl' | 'tags'>
}

/**
 * A cache over one store: the operations of Django's cache API and more, all async, all reporting
 * bad input as a rejected promise with a typed error. Create one with {@link createCache}.
 */
export class Cache {
  readonly #shared: Shared
  readonly #scope: Scope
  readonly #base: string
  readonly #counters = new Counters()
  readonly #children = new Set<Cache>()
  readonly #root: boolean
  readonly #internals: CacheInternals
  #closed = false

  /** @internal Use {@link createCache}, `cache.namespace()` or `cache.withVersion()`. */
  constructor(shared: Shared, scope: Scope, root = false) {
    this.#shared = shared
    this.#scope = scope
    this.#root = root
    const parts = [shared.prefix, scope.namespace, scope.version === undefined ? '' : `v${scope.version}`]
    this.#base = parts.filter(Boolean).join(SEPARATOR)
    if (this.#base) this.#base += SEPARATOR
    const registered = shared.registry.get(scope.namespace)
    if (registered) this.#counters = registered
    else shared.registry.set(scope.namespace, this.#counters)
    this.#internals = {
      shared,
      counters: this.#counters,
      defaults: scope.getOrSet,
      full: (key) => this.#full(key),
      read: (key) => this.#read(key),
      write: (key, value, ttl, tags) => this.#write(key, value, ttl, tags),
      ttl: (ttl, key) => this.#ttl(ttl, key),
      tags: (tags, key) => this.#tags(tags, key),
      publish: (type, key, extra) => this.#publish(type, key, extra),
      recordError: (operation, key, error) => this.#recordError(operation, key, error),
    }
  }

  /** The exact key this cache writes to the store for `key`. */
  makeKey(key: string): string {
    assertKey(key, this.#shared.maxKeyLength)
    return this.#base + key
  }

  /** The value, or `undefined` on a miss (an expired or unreadable entry is a miss). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      const full = this.#full(key)
      const raw = this.#shared.store.get(full)
      if (raw instanceof Promise) {
        return raw.then(
          (value) => freshValue(this.#count(key, value)) as T | undefined,
          (error) => this.#failed('get', key, error),
        )
      }
      return Promise.resolve(freshValue(this.#count(key, raw)) as T | undefined)
    } catch (error) {
      return Promise.reject(withKey(error, key))
    }
  }

  /** Writes a value. A TTL of `0` stores nothing and removes any value already there. */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const full = this.#full(key)
    const ttl = this.#ttl(options?.ttl, key)
    const tags = this.#tags(options?.tags, key)
    if (ttl === 0) {
      await this.#call('delete', key, () => this.#shared.store.delete(full))
      return
    }
    const stored = this.#encode(value, key)
    await this.#call('set', key, () => this.#shared.store.set(full, stored, { ttl, tags }))
    this.#counters.sets++
    if (channel.set.hasSubscribers) channel.set.publish(this.#event('set', key))
  }

  /** Writes only if the key is absent (atomic in stores that say so); true when it wrote. */
  async add(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const full = this.#full(key)
    const ttl = this.#ttl(options?.ttl, key)
    const tags = this.#tags(options?.tags, key)
    const stored = this.#encode(value, key)
    if (ttl === 0) return !(await this.has(key))
    const added = await this.#call('add', key, () => this.#shared.store.add(full, stored, { ttl, tags }))
    if (added) this.#counters.sets++
    return added
  }

  /** True when a fresh value is stored under the key. */
  async has(key: string): Promise<boolean> {
    return (await this.#read(key)).state === 'fresh'
  }

  /** Removes the key; true when it existed. */
  async delete(key: string): Promise<boolean> {
    const full = this.#full(key)
    const deleted = await this.#call('delete', key, () => this.#shared.store.delete(full))
    if (deleted) this.#deleted(key, 1)
    return deleted
  }

  /** The keys found, with their values, in one store round trip where the store batches. */
  async getMany<T = unknown>(keys: Iterable<string>): Promise<Map<string, T>> {
    const list = [...keys]
    const fulls = list.map((key) => this.#full(key))
    const raws = await this.#call('getMany', undefined, () => this.#shared.store.getMany(fulls))
    const found = new Map<string, T>()
    list.forEach((key, i) => {
      const read = this.#count(key, raws[i])
      if (read.state === 'fresh') found.set(key, read.value as T)
    })
    return found
  }

  /** Writes several entries with the same options; a value that cannot be stored aborts them all. */
  async setMany(
    entries: Readonly<Record<string, unknown>> | Iterable<readonly [string, unknown]>,
    options?: SetOptions,
  ): Promise<void> {
    const list =
      Symbol.iterator in entries
        ? [...(entries as Iterable<readonly [string, unknown]>)]
        : Object.entries(entries)
    const ttl = this.#ttl(options?.ttl, undefined)
    const tags = this.#tags(options?.tags, undefined)
    const writes = list.map(([key, value]) => ({
      key: this.#full(key),
      value: this.#encode(value, key),
      ttl,
      tags,
    }))
    if (ttl === 0) {
      await this.deleteMany(list.map(([key]) => key))
      return
    }
    await this.#call('setMany', undefined, () => this.#shared.store.setMany(writes))
    this.#counters.sets += writes.length
  }

  /** Removes the keys; resolves to how many existed. */
  async deleteMany(keys: Iterable<string>): Promise<number> {
    const list = [...keys]
    const fulls = list.map((key) => this.#full(key))
    const deleted = await this.#call('deleteMany', undefined, () => this.#shared.store.deleteMany(fulls))
    this.#deleted(undefined, deleted)
    return deleted
  }

  /**
   * Adds `delta` (default 1) to an integer entry atomically and resolves to the new value. A
   * missing key counts from 0 and is created with `options.ttl` or the default TTL; an existing
   * one keeps its TTL.
   */
  async incr(key: string, delta = 1, options?: Pick<SetOptions, 'ttl'>): Promise<number> {
    const full = this.#full(key)
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidOptionError(`incr/decr step must be a safe integer, got ${String(delta)}`, { key })
    }
    const ttl = this.#ttl(options?.ttl, key)
    if (ttl === 0)
      throw new InvalidTtlError('incr/decr needs a TTL > 0 or null: a TTL of 0 stores nothing', { key })
    const result = await this.#call('incr', key, () => this.#shared.store.incr(full, delta, { ttl }))
    this.#counters.sets++
    return result
  }

  /** Subtracts `delta` (default 1); see {@link Cache.incr}. */
  decr(key: string, delta = 1, options?: Pick<SetOptions, 'ttl'>): Promise<number> {
    return typeof delta === 'number' ? this.incr(key, -delta, options) : this.incr(key, delta, options)
  }

  /** Gives an existing entry a new TTL (`null`: never expires; `0`: expire now); false if missing. */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    const full = this.#full(key)
    const ms = ttlToMs(ttl, key)
    if (ms === 0) return this.delete(key)
    return this.#call('touch', key, () => this.#shared.store.touch(full, ms))
  }

  /** Milliseconds left; `null` = never expires; `undefined` = missing. Includes any grace period. */
  async ttl(key: string): Promise<number | null | undefined> {
    const full = this.#full(key)
    return this.#call('ttl', key, () => this.#shared.store.ttl(full))
  }

  /**
   * The value if fresh; otherwise calls `factory` once per key however many callers ask at the
   * same time, stores its result and resolves every caller with it. See {@link GetOrSetOptions}
   * for grace periods and timeouts.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions<T>): Promise<T> {
    return getOrSet(this.#internals, key, factory, options)
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

  /** Removes every entry written with this tag; resolves to how many were removed. */
  async deleteByTag(tag: string): Promise<number> {
    const scoped = this.#tags([tag], undefined)![0] as string
    const deleted = await this.#call('deleteByTag', undefined, () => this.#shared.store.deleteByTag(scoped))
    this.#deleted(undefined, deleted)
    return deleted
  }

  /** Removes the keys matching a glob (`*`, `?`, `[abc]`) under this cache; resolves to how many. */
  async deletePattern(pattern: string): Promise<number> {
    const full = this.#pattern(pattern)
    const deleted = await this.#call('deletePattern', undefined, () => this.#shared.store.deletePattern(full))
    this.#deleted(undefined, deleted)
    return deleted
  }

  /** Yields this cache's keys matching a glob (default all), without prefix or namespace. */
  async *keys(pattern = '*'): AsyncGenerator<string> {
    const full = this.#pattern(pattern)
    const skip = this.#base.length
    for await (const key of this.#shared.store.keys(full)) yield key.slice(skip)
  }

  /** Removes every key under this cache's prefix and namespace (all versions), and nothing else. */
  async clear(): Promise<void> {
    this.#open()
    const base = [this.#shared.prefix, this.#scope.namespace].filter(Boolean).join(SEPARATOR)
    const pattern = base ? `${escapeGlob(base)}${SEPARATOR}*` : '*'
    const deleted = await this.#call('clear', undefined, () => this.#shared.store.deletePattern(pattern))
    this.#deleted(undefined, deleted)
  }

  /** A child cache whose keys live under `name:` and whose stats are counted apart. */
  namespace(name: string, options: { ttl?: Ttl } = {}): Cache {
    this.#open()
    assertSegment(name, 'A namespace')
    const namespace = this.#scope.namespace ? `${this.#scope.namespace}${SEPARATOR}${name}` : name
    const ttl = options.ttl === undefined ? this.#scope.ttl : ttlToMs(options.ttl)
    return this.#child({ ...this.#scope, namespace, ttl })
  }

  /** The same cache reading and writing keys of another version. */
  withVersion(version: number): Cache {
    this.#open()
    return this.#child({ ...this.#scope, version: checkVersion(version) })
  }

  /**
   * Moves a key's value to the next version (Django's `incr_version`) and resolves to the new
   * version number; read it with `cache.withVersion(n)`. Needs `createCache({ version })`.
   */
  async incrVersion(key: string, delta = 1): Promise<number> {
    const from = this.#scope.version
    if (from === undefined) {
      throw new InvalidOptionError('incrVersion needs a versioned cache: createCache({ version: 1 })', {
        key,
      })
    }
    const to = checkVersion(from + delta)
    const value = await this.get(key)
    if (value === undefined && !(await this.has(key))) {
      throw new CacheError(`Cannot move "${key}" to version ${to}: it is not in the cache`, { key })
    }
    const left = await this.ttl(key)
    await this.withVersion(to).set(key, value, { ttl: left ?? null })
    await this.delete(key)
    return to
  }

  /** Counters for this cache and the namespaces below it. */
  stats(): CacheStats {
    const own = this.#scope.namespace
    const total = new Counters()
    const namespaces: Record<string, ReturnType<typeof summarize>> = {}
    for (const [path, counters] of this.#shared.registry) {
      if (path !== own && own !== '' && !path.startsWith(own + SEPARATOR)) continue
      counters.addTo(total)
      if (path !== own) namespaces[own ? path.slice(own.length + 1) : path] = summarize(counters)
    }
    const store = this.#shared.store.stats()
    return { ...summarize(total), evictions: store.evictions ?? 0, store, namespaces }
  }

  /**
   * Closes this cache. A root cache also closes its namespaces and, once no other cache uses it,
   * the store. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const child of this.#children) await child.close()
    if (this.#root) {
      this.#shared.closed = true
      await releaseStore(this.#shared.original)
    }
  }

  // -- internals ------------------------------------------------------------------------------

  #child(scope: Scope): Cache {
    const child = new Cache(this.#shared, scope)
    this.#children.add(child)
    return child
  }

  #full(key: string): string {
    if (this.#closed || this.#shared.closed)
      throw new CacheClosedError('This cache was closed; create a new one')
    if (typeof key !== 'string' || key.length === 0 || key.length > this.#shared.maxKeyLength) {
      assertKey(key, this.#shared.maxKeyLength)
    }
    return this.#base + key
  }

  #pattern(pattern: string): string {
    this.#open()
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > this.#shared.maxKeyLength) {
      assertKey(pattern, this.#shared.maxKeyLength)
    }
    return this.#base + pattern
  }

  #open(): void {
    if (this.#closed || this.#shared.closed)
      throw new CacheClosedError('This cache was closed; create a new one')
  }

  #ttl(ttl: Ttl | undefined, key: string | undefined): number | null {
    if (ttl === undefined) return this.#scope.ttl
    const ms = ttlToMs(ttl, key)
    return ms === null ? null : Math.ceil(ms)
  }

  #tags(tags: readonly string[] | undefined, key: string | undefined): readonly string[] | undefined {
    if (tags === undefined) return undefined
    if (!Array.isArray(tags)) throw new InvalidOptionError('tags must be an array of strings', { key })
    const prefix = this.#shared.prefix ? this.#shared.prefix + SEPARATOR : ''
    return tags.map((tag: unknown) => {
      assertSegment(tag, 'A tag')
      return prefix + tag
    })
  }

  #encode(value: unknown, key: string): unknown {
    try {
      return toStored(this.#shared, value)
    } catch (error) {
      throw withKey(error, key)
    }
  }

  async #read(key: string): Promise<Read> {
    const full = this.#full(key)
    const raw = await this.#call('get', key, () => this.#shared.store.get(full))
    try {
      return interpret(this.#shared, raw)
    } catch (error) {
      this.#recordError('decode', key, error)
      return MISS
    }
  }

  async #write(
    key: string,
    value: unknown,
    ttl: number | null,
    tags: readonly string[] | undefined,
  ): Promise<void> {
    const full = this.#full(key)
    const stored = this.#encode(value, key)
    await this.#call('set', key, () => this.#shared.store.set(full, stored, { ttl, tags }))
    this.#counters.sets++
  }

  /** Interprets a raw read and counts it as a hit or a miss. */
  #count(key: string, raw: unknown): Read {
    let read: Read
    try {
      read = interpret(this.#shared, raw)
    } catch (error) {
      this.#recordError('decode', key, error)
      read = MISS
    }
    if (read.state === 'fresh') {
      this.#counters.hits++
      if (channel.hit.hasSubscribers) channel.hit.publish(this.#event('hit', key))
    } else {
      this.#counters.misses++
      if (channel.miss.hasSubscribers) channel.miss.publish(this.#event('miss', key))
    }
    return read
  }

  async #call<T>(operation: string, key: string | undefined, run: () => T | Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      return this.#failed(operation, key, error)
    }
  }

  #failed(operation: string, key: string | undefined, error: unknown): never {
    this.#recordError(operation, key, error)
    throw key === undefined ? error : withKey(error, key)
  }

  #recordError(operation: string, key: string | undefined, error: unknown): void {
    this.#counters.errors++
    this.#publish('error', key, { error, operation })
  }

  #deleted(key: string | undefined, count: number): void {
    this.#counters.deletes += count
    if (count > 0 && channel.delete.hasSubscribers) channel.delete.publish(this.#event('delete', key))
  }

  #event(type: CacheEventType, key: string | undefined, extra?: Partial<CacheEvent>): CacheEvent {
    return { type, prefix: this.#shared.prefix, namespace: this.#scope.namespace, key, ...extra }
  }

  #publish(type: CacheEventType, key: string | undefined, extra?: Partial<CacheEvent>): void {
    const target = channel[type]
    if (target.hasSubscribers) target.publish(this.#event(type, key, extra))
  }
}

function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new InvalidOptionError(`version must be a whole number >= 0, got ${String(version)}`)
  }
  return version
}

/** Creates a cache over a store. See {@link CacheOptions}. */
export function createCache(options: CacheOptions): Cache {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('createCache needs options: createCache({ store: memoryStore() })')
  }
  const store = completeStore(options.store)
  const prefix = options.prefix ?? ''
  if (prefix !== '') assertSegment(prefix, 'prefix')
  const maxKeyLength = options.maxKeyLength ?? MAX_KEY_LENGTH
  if (!Number.isInteger(maxKeyLength) || maxKeyLength <= 0) {
    throw new InvalidOptionError(`maxKeyLength must be a whole number > 0, got ${String(maxKeyLength)}`)
  }
  const codecOption = options.codec
  const codec =
    store.capabilities.valueKind === 'bytes'
      ? codecOption && 'encode' in codecOption
        ? codecOption
        : createCodec(codecOption as CodecOptions | undefined)
      : undefined
  const defaults = options.getOrSet ?? {}
  for (const name of ['grace', 'timeout', 'hardTimeout', 'graceBackoff'] as const) {
    if (defaults[name] !== undefined) requireDuration(defaults[name] as Duration, `getOrSet.${name}`)
  }
  const shared: Shared = {
    store,
    original: options.store,
    codec,
    clock: options.clock ?? systemClock,
    prefix,
    maxKeyLength,
    inflight: new Map(),
    refreshBackoff: new Map(),
    registry: new Map(),
    closed: false,
  }
  const scope: Scope = {
    namespace: '',
    version: options.version === undefined ? undefined : checkVersion(options.version),
    ttl: options.ttl === undefined ? null : ttlToMs(options.ttl, undefined),
    getOrSet: defaults,
  }
  acquireStore(options.store)
  return new Cache(shared, scope, true)
}

function freshValue(read: Read): unknown {
  return read.state === 'fresh' ? read.value : undefined
}
