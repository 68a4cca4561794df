import { CacheClosedError, CorruptValueError, InvalidOptionError, withKey } from '../errors.js'
import type { Ttl } from '../internal/index.js'
import { escapeGlob, ttlToMs } from '../internal/index.js'
import {
  type CacheEvent,
  type CacheEventType,
  channel,
  publishTiming,
  type Tier,
  type TimingEvent,
  timingStart,
} from '../observe/index.js'
import type { ScopedAccess } from '../stores/index.js'
import type { GetOrSetOptions } from './get-or-set.js'
import { assertKey, assertSegment, SEPARATOR } from './keys.js'
import { interpret, MISS, noteChange, type Read, type Shared, toStored } from './shared.js'
import { Counters } from './stats.js'

/** What distinguishes a namespace or version of a cache from its root. */
export interface Scope {
  readonly namespace: string
  readonly version: number | undefined
  readonly ttl: number | null
  readonly getOrSet: Omit<GetOrSetOptions<unknown>, 'ttl' | 'tags'>
}

/** Distinct namespace paths counted apart in `stats()`; more are counted together under '*'. */
const MAX_NAMESPACE_STATS = 1000

/**
 * The working parts of one cache (root, namespace or version): key building and validation, store
 * calls with error accounting, hit/miss counting and events. `Cache` is the public face over it.
 */
export class CacheContext {
  readonly base: string
  readonly escapedBase: string
  readonly counters: Counters
  readonly defaults: Scope['getOrSet']
  /** The store's access to keys under {@link base} given without it, when it has one. */
  readonly scoped: ScopedAccess | undefined
  closed = false

  constructor(
    readonly shared: Shared,
    readonly scope: Scope,
    /** The context this one was made from; closing it closes this one. */
    readonly parent: CacheContext | undefined,
  ) {
    const parts = [shared.prefix, scope.namespace, scope.version === undefined ? '' : `v${scope.version}`]
    const base = parts.filter(Boolean).join(SEPARATOR)
    this.base = base ? base + SEPARATOR : ''
    this.escapedBase = escapeGlob(this.base)
    this.scoped = shared.store.scoped?.(this.base)
    this.defaults = scope.getOrSet
    // Namespaces made per request (`namespace(`user:${id}`)`) must not grow the registry without
    // bound: past MAX_NAMESPACE_STATS distinct paths, new ones are counted together under '*'.
    const { registry } = shared
    const path = registry.has(scope.namespace) || registry.size < MAX_NAMESPACE_STATS ? scope.namespace : '*'
    let counters = registry.get(path)
    if (!counters) registry.set(path, (counters = new Counters()))
    this.counters = counters
  }

  isClosed(): boolean {
    if (this.shared.closed) return true
    for (let context: CacheContext | undefined = this; context; context = context.parent) {
      if (context.closed) return true
    }
    return false
  }

  open(): void {
    if (this.isClosed()) throw new CacheClosedError('This cache was closed; create a new one')
  }

  /** The store key for a caller's key; throws for a bad key or a closed cache. */
  full(key: string): string {
    this.check(key)
    return this.base + key
  }

  /** Throws for a bad key or a closed cache, as {@link full} does, without building the store key. */
  check(key: string): void {
    if (this.isClosed()) throw new CacheClosedError('This cache was closed; create a new one')
    if (typeof key !== 'string' || key.length === 0 || key.length > this.shared.maxKeyLength) {
      assertKey(key, this.shared.maxKeyLength)
    }
  }

  pattern(pattern: string): string {
    this.open()
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > this.shared.maxKeyLength) {
      assertKey(pattern, this.shared.maxKeyLength)
    }
    // The prefix and namespaces are literal text: a '*' or '[' in them must not act as a glob.
    return this.escapedBase + pattern
  }

  ttl(ttl: Ttl | undefined, key: string | undefined): number | null {
    return ttl === undefined ? this.scope.ttl : ttlToMs(ttl, key)
  }

  /** Validates tags and scopes them to the root prefix, so they reach across namespaces only. */
  tags(tags: readonly string[] | undefined, key: string | undefined): readonly string[] | undefined {
    if (tags === undefined) return undefined
    if (!Array.isArray(tags)) throw new InvalidOptionError('tags must be an array of strings', { key })
    const prefix = this.shared.prefix ? this.shared.prefix + SEPARATOR : ''
    return tags.map((tag: unknown) => {
      assertSegment(tag, 'A tag')
      return prefix + tag
    })
  }

  encode(value: unknown, key: string): unknown {
    try {
      return toStored(this.shared, value)
    } catch (error) {
      throw withKey(error, key)
    }
  }

  /** Reads without counting; synchronous when the store answers synchronously. */
  read(key: string): Read | Promise<Read> {
    const scoped = this.scoped
    // With scoped access (a memory store whose home is this base), the lookup is on the caller's
    // own key string, whose hash V8 keeps, instead of a new `base + key` to flatten and hash.
    this.check(key)
    let raw: unknown
    try {
      raw = scoped === undefined ? this.shared.store.get(this.base + key) : scoped.get(key)
    } catch (error) {
      return this.readFailed(key, error)
    }
    if (raw instanceof Promise) {
      return raw.then(
        (value) => this.interpret(key, value),
        (error) => this.readFailed(key, error),
      )
    }
    return this.interpret(key, raw)
  }

  /** A read the store could not do: an unreadable entry is a miss (and an error); anything else fails the call. */
  readFailed(key: string, error: unknown): Read {
    if (!(error instanceof CorruptValueError)) this.failed('get', key, error)
    this.recordError('decode', key, error)
    return MISS
  }

  /** A raw store answer as a {@link Read}; an unreadable entry is a miss and an error. */
  interpret(key: string, raw: unknown): Read {
    try {
      return interpret(this.shared, raw)
    } catch (error) {
      this.recordError('decode', key, error)
      return MISS
    }
  }

  /**
   * Interprets a raw read and counts it as a hit or a miss; `sync` when the store answered at
   * once from this process (an L1 hit).
   */
  count(key: string, raw: unknown, sync = false): Read {
    const read = this.interpret(key, raw)
    if (read.state === 'fresh') {
      if (sync) this.counters.l1Hits++
      this.hit(key)
    } else {
      this.counters.misses++
      if (channel.miss.hasSubscribers) channel.miss.publish(this.event('miss', key))
    }
    return read
  }

  hit(key: string): void {
    this.counters.hits++
    if (channel.hit.hasSubscribers) channel.hit.publish(this.event('hit', key))
  }

  /** Encodes and writes a value, then counts it; `full` is `this.full(key)`, already checked. */
  write(
    key: string,
    full: string,
    value: unknown,
    ttl: number | null,
    tags: readonly string[] | undefined,
  ): Promise<void> {
    const stored = this.encode(value, key)
    noteChange(this.shared, [full])
    const scoped = this.scoped
    const shared = this.shared
    const start = timingStart()
    let result: void | Promise<void>
    try {
      // The scoped write keeps the caller's own key string, which later hits look up by identity.
      result =
        scoped === undefined
          ? shared.store.set(full, stored, { ttl, tags })
          : scoped.set(key, stored, { ttl, tags })
    } catch (error) {
      if (start >= 0) this.timed(start, 'set', 'error', 'l1', error)
      return Promise.reject(this.failure('set', key, error))
    }
    if (!(result instanceof Promise)) {
      if (start >= 0) this.timed(start, 'set', 'ok', 'l1')
      this.#written(key)
      return Promise.resolve()
    }
    // What `call` and `owe` do, in one reaction: every write passes here. close() waits for
    // writes under way before it releases the store.
    const written: Promise<void> = result.then(
      () => {
        shared.owed.delete(written)
        if (start >= 0) this.timed(start, 'set', 'ok', 'l2')
        this.#written(key)
      },
      (error: unknown) => {
        shared.owed.delete(written)
        if (start >= 0) this.timed(start, 'set', 'error', 'l2', error)
        return this.failed('set', key, error)
      },
    )
    shared.owed.add(written)
    return written
  }

  #written(key: string): void {
    this.counters.sets++
    if (channel.set.hasSubscribers) channel.set.publish(this.event('set', key))
  }

  /**
   * Runs a store call; a failure is counted, published and rethrown naming the key. Not an async
   * function: a store that answers synchronously costs one promise, not three.
   */
  call<T>(operation: string, key: string | undefined, run: () => T | Promise<T>): Promise<T> {
    const start = timingStart()
    let result: T | Promise<T>
    try {
      result = run()
    } catch (error) {
      if (start >= 0) this.timed(start, operation, 'error', 'l1', error)
      return Promise.reject(this.failure(operation, key, error))
    }
    if (result instanceof Promise) {
      if (start < 0) return result.catch((error: unknown) => this.failed(operation, key, error))
      return result.then(
        (value) => {
          this.timed(start, operation, 'ok', 'l2')
          return value
        },
        (error: unknown) => {
          this.timed(start, operation, 'error', 'l2', error)
          return this.failed(operation, key, error)
        },
      )
    }
    if (start >= 0) this.timed(start, operation, 'ok', 'l1')
    return Promise.resolve(result)
  }

  /** Publishes the timing of an operation started with `timingStart()`. */
  timed(start: number, operation: string, result: TimingEvent['result'], tier: Tier, error?: unknown): void {
    publishTiming(start, this.shared.prefix, this.scope.namespace, operation, result, tier, error)
  }

  failed(operation: string, key: string | undefined, error: unknown): never {
    throw this.failure(operation, key, error)
  }

  /** Counts and publishes a failed store call; returns the error to throw, naming the key. */
  failure(operation: string, key: string | undefined, error: unknown): unknown {
    this.recordError(operation, key, error)
    return key === undefined ? error : withKey(error, key)
  }

  recordError(operation: string, key: string | undefined, error: unknown): void {
    this.counters.errors++
    this.publish('error', key, { error, operation })
  }

  deleted(key: string | undefined, count: number): void {
    this.counters.deletes += count
    if (count > 0 && channel.delete.hasSubscribers) channel.delete.publish(this.event('delete', key))
  }

  publish(type: CacheEventType, key: string | undefined, extra?: Partial<CacheEvent>): void {
    const target = channel[type]
    if (target.hasSubscribers) target.publish(this.event(type, key, extra))
  }

  event(type: CacheEventType, key: string | undefined, extra?: Partial<CacheEvent>): CacheEvent {
    return { type, prefix: this.shared.prefix, namespace: this.scope.namespace, key, ...extra }
  }
}
