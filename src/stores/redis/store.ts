import { CacheError } from '../../errors.js'
import type { InvalidationBus } from '../../tiers/bus.js'
import type {
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreLeases,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from '../types.js'
import { checkKey, isReserved } from './bookkeeping.js'
import type { BreakerState } from './breaker.js'
import { DEFAULT_CHANNEL, redisInvalidationBus } from './bus.js'
import { integerError, toBytes, toValue, unlink, writeEntry } from './commands.js'
import { connect, subscribeWhenConnected } from './connect.js'
import type { NodeSender, RedisArg, SubscriptionStatus, Unsubscribe } from './driver.js'
import { Guard, type GuardCounters, RETHROW } from './guard.js'
import { inspectNodes, type RedisInspection } from './inspect.js'
import { redisLeases } from './leases.js'
import { type RedisStoreOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { INCR, runScript, type ScriptRunner } from './scripts.js'
import { groupBySlot } from './slot.js'
import { addTags, deleteTagged, expireTagged } from './tags.js'

const CAPABILITIES: StoreCapabilities = { valueKind: 'bytes', atomic: true, shared: true, tags: true }

/** UNLINK batches in flight at once during deletePattern. */
const IN_FLIGHT = 8

/** A named pub/sub channel (see {@link RedisStore.channel}). */
export interface PubSubChannel {
  publish(message: string): Promise<void>
  /** Resolves to a function that unsubscribes. */
  subscribe(listener: (message: string) => void): Promise<() => Promise<void>>
}

export interface RedisStoreStats extends StoreStats {
  /** Calls that failed on an unreachable or slow Redis, or an open circuit. */
  readonly errors: number
  /** Of those, the ones turned into misses/no-ops by `onError: 'ignore'`. */
  readonly ignoredErrors: number
  readonly timeouts: number
  readonly shortCircuited: number
  readonly circuit: BreakerState
  readonly connected: boolean
}

/**
 * The Redis/Valkey store: standalone, Sentinel or Cluster through node-redis (or an ioredis client).
 * Values are Buffers the cache encoded; integers are plain ASCII digits, so `incr` is INCRBY.
 */
export class RedisStore implements StoreCore, StoreExtras {
  readonly name = 'redis'
  readonly capabilities = CAPABILITIES
  readonly #options: ResolvedOptions
  readonly #guard: Guard
  #closing: Promise<void> | undefined
  readonly #subscriptions = new Set<Unsubscribe>()
  #leases: StoreLeases | undefined

  constructor(options: RedisStoreOptions) {
    this.#options = resolveOptions(options)
    this.#guard = new Guard(this.#options)
    connect(this.#guard, this.#options)
  }

  /**
   * False while calls cannot succeed: disconnected (after the first connection attempt) or the
   * circuit is open and cooling down. A cache with a `fallback` reads this before each call.
   */
  available(): boolean {
    const guard = this.#guard
    if (guard.closed) return false
    if (guard.driver?.ready !== true) return guard.initial !== undefined
    return guard.breaker?.shortCircuiting !== true
  }

  /** The deadline of one call, in ms. */
  get timeout(): number {
    return this.#options.timeout
  }

  get(key: string): Promise<unknown> {
    checkKey(key)
    return this.#guard.call((d) => d.send(['GET', key], key).then(toValue), undefined)
  }

  getEntry(key: string): Promise<StoreEntry | undefined> {
    checkKey(key)
    return this.#guard.call(async (d) => {
      const [value, left] = await Promise.all([d.send(['GET', key], key), d.send(['PTTL', key], key)])
      if (value === null || value === undefined) return undefined
      const ms = Number(left)
      return { value: value as Buffer, expiresAt: ms < 0 ? null : Date.now() + ms }
    }, undefined)
  }

  has(key: string): Promise<boolean> {
    checkKey(key)
    return this.#guard.call((d) => d.send(['EXISTS', key], key).then((n) => Number(n) === 1), false)
  }

  set(key: string, value: unknown, options: StoreWriteOptions): Promise<void> {
    checkKey(key)
    const bytes = toBytes(this.#options.maxValueBytes, value, key)
    return this.#guard.call((d) => writeEntry(d, key, bytes, options), undefined)
  }

  add(key: string, value: unknown, options: StoreWriteOptions): Promise<boolean> {
    checkKey(key)
    const bytes = toBytes(this.#options.maxValueBytes, value, key)
    return this.#guard.call(async (d) => {
      const args: RedisArg[] = ['SET', key, bytes, 'NX']
      if (options.ttl !== null) args.push('PX', String(options.ttl))
      const reply = await d.send(args, key)
      if (reply === null || reply === undefined) return false
      if (options.tags && options.tags.length > 0) await addTags(d, key, bytes, options.tags, options.ttl)
      return true
    }, false)
  }

  getMany(keys: readonly string[]): Promise<readonly unknown[]> {
    for (const key of keys) checkKey(key)
    const misses = keys.map(() => undefined)
    if (keys.length === 0) return Promise.resolve(misses)
    return this.#guard.call(async (d) => {
      if (d.topology !== 'cluster') {
        const reply = (await d.send(['MGET', ...keys], keys[0])) as unknown[]
        return reply.map(toValue)
      }
      const out: unknown[] = [...misses]
      await Promise.all(
        [...groupBySlot(keys)].map(async ([, indexes]) => {
          const group = indexes.map((i) => keys[i] as string)
          const reply = (await d.send(['MGET', ...group], group[0])) as unknown[]
          indexes.forEach((index, j) => {
            out[index] = toValue(reply[j])
          })
        }),
      )
      return out
    }, misses)
  }

  setMany(writes: readonly StoreWrite[]): Promise<void> {
    // Check every write first: one bad value aborts the batch before anything is sent.
    const prepared = writes.map((w) => ({
      write: w,
      bytes: toBytes(this.#options.maxValueBytes, w.value, checkKey(w.key)),
    }))
    if (prepared.length === 0) return Promise.resolve()
    // Commands issued in one tick leave in one socket write: one round trip (per node in Cluster).
    return this.#guard.call(async (d) => {
      await Promise.all(prepared.map(({ write, bytes }) => writeEntry(d, write.key, bytes, write)))
    }, undefined)
  }

  delete(key: string): Promise<boolean> {
    checkKey(key)
    return this.#guard.call((d) => d.send(['UNLINK', key], key).then((n) => Number(n) > 0), false)
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    for (const key of keys) checkKey(key)
    if (keys.length === 0) return Promise.resolve(0)
    return this.#guard.call((d) => unlink(d, keys), 0)
  }

  incr(key: string, delta: number, options: StoreWriteOptions): Promise<number> {
    checkKey(key)
    return this.#guard
      .call(
        (d) =>
          runScript(d, INCR, [key], [String(delta), options.ttl === null ? '' : String(options.ttl)]).then(
            Number,
          ),
        delta,
      )
      .catch((error: unknown) => {
        throw integerError(error)
      })
  }

  touch(key: string, ttl: number | null): Promise<boolean> {
    checkKey(key)
    return this.#guard.call(async (d) => {
      if (ttl !== null) return Number(await d.send(['PEXPIRE', key, String(ttl)], key)) === 1
      const [exists] = await Promise.all([d.send(['EXISTS', key], key), d.send(['PERSIST', key], key)])
      return Number(exists) === 1
    }, false)
  }

  ttl(key: string): Promise<number | null | undefined> {
    checkKey(key)
    return this.#guard.call(
      (d) =>
        d.send(['PTTL', key], key).then((reply) => {
          const ms = Number(reply)
          return ms === -2 ? undefined : ms === -1 ? null : ms
        }),
      undefined,
    )
  }

  /** Yields live keys matching the glob, by SCAN (on every master in Cluster); never KEYS. */
  async *keys(pattern: string): AsyncGenerator<string> {
    const seen = new Set<string>()
    const masters = await this.#guard.call((d) => d.masters(), RETHROW)
    for (const send of masters) {
      for await (const page of this.#scan(send, pattern)) {
        for (const key of page) {
          if (seen.has(key)) continue
          seen.add(key)
          yield key
        }
      }
    }
  }

  /** SCAN + UNLINK in batches on every master; never KEYS, never FLUSHDB. Skips reserved keys. */
  async deletePattern(pattern: string): Promise<number> {
    const masters = await this.#guard.call((d) => d.masters(), RETHROW)
    let deleted = 0
    const inFlight = new Set<Promise<void>>()
    for (const send of masters) {
      for await (const page of this.#scan(send, pattern)) {
        if (page.length === 0) continue
        const job: Promise<void> = this.#guard
          .call(
            (d) => (d.topology === 'cluster' ? unlink(d, page) : send(['UNLINK', ...page]).then(Number)),
            RETHROW,
          )
          .then((n) => {
            deleted += n
            inFlight.delete(job)
          })
        inFlight.add(job)
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
      }
    }
    await Promise.all(inFlight)
    return deleted
  }

  /** Removes every entry written with the tag, without scanning the keyspace (see tags.ts). */
  deleteByTag(tag: string): Promise<number> {
    return this.#guard.call((d) => deleteTagged(d, tag), 0)
  }

  /** Makes every entry written with the tag stale, keeping value and TTL (see tags.ts). */
  expireByTag(tag: string, staleAt: number): Promise<number> {
    return this.#guard.call((d) => expireTagged(d, tag, staleAt), 0)
  }

  stats(): RedisStoreStats {
    const c: GuardCounters = this.#guard.counters
    return {
      errors: c.errors,
      ignoredErrors: c.ignored,
      timeouts: c.timeouts,
      shortCircuited: c.shortCircuited,
      circuit: this.#guard.breaker?.state ?? 'closed',
      connected: this.#guard.driver?.ready ?? false,
    }
  }

  /** Redis INFO figures (summed over masters in Cluster) and the DB size. */
  inspect(): Promise<RedisInspection> {
    return this.#guard.call(async (d) => inspectNodes(d.topology, await d.masters()), RETHROW)
  }

  /**
   * An invalidation bus over this Redis's pub/sub, for tiered caches: `createCache({ tiers: [l1,
   * store] })` uses it unless given another. Subscribing takes a connection of its own.
   */
  invalidationBus(channel = DEFAULT_CHANNEL): InvalidationBus {
    return redisInvalidationBus(
      {
        publish: (name, payload) =>
          this.#guard.call((d) => d.send(['PUBLISH', name, payload]).then(() => undefined), RETHROW),
        subscribe: (name, listener, status) => this.#subscribe(name, listener, status),
      },
      channel,
    )
  }

  /** Leases for getOrSet's single flight across processes (see leases.ts). */
  leases(): StoreLeases {
    this.#leases ??= redisLeases({
      setIfAbsent: (key, token, ttl) =>
        this.#guard.call(
          (d) => d.send(['SET', key, token, 'NX', 'PX', String(ttl)], key).then((reply) => reply !== null),
          RETHROW,
        ),
      run: (s, keys, args) => this.#guard.call((d) => runScript(d, s, keys, args), RETHROW),
      subscribe: (channel, listener, status) => this.#subscribe(channel, listener, status),
    })
    return this.#leases
  }

  /**
   * A pub/sub channel on this Redis: `publish` goes through the store's deadline and breaker;
   * `subscribe` takes a connection of its own (shared by every subscription of the store) and
   * survives reconnects. Messages are at-most-once, as Redis pub/sub is.
   */
  channel(name: string): PubSubChannel {
    return {
      publish: (message) =>
        this.#guard.call((d) => d.send(['PUBLISH', name, message]).then(() => undefined), RETHROW),
      subscribe: (listener) =>
        this.#subscribe(name, (message) => listener(message.toString('utf8')), {
          up: () => {},
          down: () => {},
        }),
    }
  }

  /** Runs Lua scripts on this Redis under the store's deadline and breaker (for rate limiting, locks). */
  scriptRunner(): ScriptRunner {
    return {
      run: (s, keys, args) => this.#guard.call((d) => runScript(d, s, keys, args.map(String)), RETHROW),
    }
  }

  /** Closes connections the store opened (a client passed in stays open). Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing
    for (const unsubscribe of this.#subscriptions) void unsubscribe().catch(() => {})
    this.#subscriptions.clear()
    this.#guard.closed = true
    this.#guard.deadlines.failAll(new CacheError('The Redis store was closed during the call'))
    this.#guard.startup.failAll(new CacheError('The Redis store was closed during the call'))
    const driver = this.#guard.driver
    this.#closing = driver ? driver.close().catch(() => {}) : Promise.resolve()
    return this.#closing
  }

  // -- internals ------------------------------------------------------------------------------

  #subscribe(
    channel: string,
    listener: (message: Buffer) => void,
    status: SubscriptionStatus,
  ): Promise<Unsubscribe> {
    return subscribeWhenConnected(this.#guard, this.#subscriptions, channel, listener, status)
  }

  async *#scan(send: NodeSender, pattern: string): AsyncGenerator<string[]> {
    let cursor = '0'
    do {
      const reply = (await this.#guard.call(
        () => send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(this.#options.scanCount)]),
        RETHROW,
      )) as [Buffer | string, (Buffer | string)[]]
      cursor = String(reply[0])
      const keys: string[] = []
      for (const raw of reply[1]) {
        const key = raw.toString()
        if (!isReserved(key)) keys.push(key)
      }
      yield keys
    } while (cursor !== '0')
  }
}

/** Creates a {@link RedisStore}. Connects in the background; never blocks or throws on a down Redis. */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options)
}
