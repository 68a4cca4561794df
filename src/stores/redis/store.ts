import { RETHROW, within } from '../../internal/index.js'
import type { InvalidationBus } from '../../tiers/index.js'
import { BACKING, type Backing } from '../backing.js'
import type {
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreLeases,
  StoreWrite,
  StoreWriteOptions,
} from '../types.js'
import { checkKey, counterKey } from './bookkeeping.js'
import { DEFAULT_CHANNEL, redisInvalidationBus } from './bus.js'
import {
  type PubSubChannel,
  type PubSubChannelOptions,
  publishVia,
  pubSubChannel,
  shardedPubSub,
} from './channel.js'
import { integerError, mget, px, tagEntry, toBytes, toValue, unlink, writeEntry } from './commands.js'
import { connect } from './connect.js'
import type { RedisArg, RedisDriver, SubscriptionStatus, Unsubscribe } from './driver.js'
import { Guard } from './guard.js'
import { inspectNodes, type RedisInspection } from './inspect.js'
import { redisLeases } from './leases.js'
import {
  type RedisStoreOptions,
  type RedisStoreState,
  type ResolvedOptions,
  resolveOptions,
} from './options.js'
import { deleteMatching, scanPages } from './scan.js'
import { INCR, runScript, type ScriptRunner } from './scripts.js'
import { type RedisStoreStats, redisStoreStats } from './stats.js'
import { Subscriptions } from './subscriptions.js'
import { deleteTagged, expireTagged } from './tags.js'

const CAPABILITIES: StoreCapabilities = { valueKind: 'bytes', atomic: true, shared: true, tags: true }

/** Integer replies as answers: EXISTS of one key, UNLINK of one key. */
const isOne = (n: unknown) => Number(n) === 1
const isPositive = (n: unknown) => Number(n) > 0

/** The most close() may take, whatever the state: drain (1 s at most), teardown, timers. */
const CLOSE_BUDGET_MS = 1900

/**
 * The Redis/Valkey store: standalone, Sentinel or Cluster through node-redis (or an ioredis client).
 * Values are Buffers the cache encoded; integers are plain ASCII digits, so `incr` is INCRBY.
 */
export class RedisStore implements StoreCore, StoreExtras {
  readonly name = 'redis'
  readonly capabilities = CAPABILITIES
  readonly #options: ResolvedOptions
  readonly #guard: Guard
  readonly #subscriptions: Subscriptions
  /** Channels (invalidations, `channel()`) use sharded pub/sub: Cluster, see `shardedPubSub`. */
  readonly #sharded: boolean
  #closing: Promise<void> | undefined
  #leases: StoreLeases | undefined

  constructor(options: RedisStoreOptions) {
    this.#options = resolveOptions(options)
    this.#guard = new Guard(this.#options)
    this.#subscriptions = new Subscriptions(() => this.#guard.driver, this.#guard)
    connect(this.#guard, this.#options)
    this.#sharded = shardedPubSub(this.#guard.driver, this.#options.shardedPubSub)
  }

  /** Declares itself to the other doors (see {@link BACKING}). */
  [BACKING](): Backing {
    return { kind: 'redis', store: this }
  }

  /** Where the store stands: connecting, ready, degraded, closing or closed (see {@link RedisStoreState}). */
  get state(): RedisStoreState {
    return this.#guard.state
  }

  /**
   * Resolves once connected to Redis; rejects with `StoreUnavailableError` when no connection comes
   * within `connectTimeout`, or `CacheClosedError` once closing. Await it (or `cache.ready()`)
   * before the app starts listening; calls made earlier wait for the first connection anyway, once.
   */
  ready(): Promise<void> {
    return this.#guard.ready()
  }

  /**
   * False while calls cannot succeed: disconnected (after the first connection attempt) or the
   * circuit is open and cooling down. A cache with a `fallback` reads this before each call.
   */
  available(): boolean {
    const guard = this.#guard
    if (guard.closed) return false
    if (guard.driver?.ready !== true) return guard.starting
    return guard.breaker?.shortCircuiting !== true
  }

  /** The deadline of one call, in ms. */
  get timeout(): number {
    return this.#options.timeout
  }

  get(key: string): Promise<unknown> {
    checkKey(key)
    return this.#guard.command('get', (d) => d.send(['GET', key], key), toValue, undefined)
  }

  getEntry(key: string): Promise<StoreEntry | undefined> {
    checkKey(key)
    return this.#guard.call(
      'getEntry',
      async (d) => {
        const [value, left] = await Promise.all([d.send(['GET', key], key), d.send(['PTTL', key], key)])
        if (value === null || value === undefined) return undefined
        const ms = Number(left)
        return { value: value as Buffer, expiresAt: ms < 0 ? null : Date.now() + ms }
      },
      undefined,
    )
  }

  has(key: string): Promise<boolean> {
    checkKey(key)
    return this.#guard.command('has', (d) => d.send(['EXISTS', key], key), isOne, false)
  }

  set(key: string, value: unknown, options: StoreWriteOptions): Promise<void> {
    checkKey(key)
    const bytes = toBytes(this.#options.maxValueBytes, value, key)
    // Resolves with the server's reply ('OK') as it came, typed void: no promise spent on hiding it.
    return this.#guard.call('set', (d) => writeEntry(d, key, bytes, options) as Promise<void>, undefined)
  }

  add(key: string, value: unknown, options: StoreWriteOptions): Promise<boolean> {
    checkKey(key)
    const bytes = toBytes(this.#options.maxValueBytes, value, key)
    return this.#guard.call(
      'add',
      async (d) => {
        const args: RedisArg[] = ['SET', key, bytes, 'NX']
        if (options.ttl !== null) args.push('PX', px(options.ttl, key))
        const reply = await d.send(args, key)
        if (reply === null || reply === undefined) return false
        if (options.tags && options.tags.length > 0) await tagEntry(d, key, bytes, options.tags, options.ttl)
        return true
      },
      false,
    )
  }

  getMany(keys: readonly string[]): Promise<readonly unknown[]> {
    for (const key of keys) checkKey(key)
    const misses = keys.map(() => undefined)
    if (keys.length === 0) return Promise.resolve(misses)
    return this.#guard.call('getMany', (d) => mget(d, keys), misses)
  }

  setMany(writes: readonly StoreWrite[]): Promise<void> {
    // Check every write first: one bad value aborts the batch before anything is sent.
    const prepared = writes.map((w) => ({
      write: w,
      bytes: toBytes(this.#options.maxValueBytes, w.value, checkKey(w.key)),
    }))
    if (prepared.length === 0) return Promise.resolve()
    // Commands issued in one tick leave in one socket write: one round trip (per node in Cluster).
    return this.#guard.call(
      'setMany',
      async (d) => {
        await Promise.all(prepared.map(({ write, bytes }) => writeEntry(d, write.key, bytes, write)))
      },
      undefined,
    )
  }

  delete(key: string): Promise<boolean> {
    checkKey(key)
    return this.#guard.command('delete', (d) => d.send(['UNLINK', key], key), isPositive, false)
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    for (const key of keys) checkKey(key)
    if (keys.length === 0) return Promise.resolve(0)
    return this.#guard.call('deleteMany', (d) => unlink(d, keys), 0)
  }

  incr(key: string, delta: number, options: StoreWriteOptions): Promise<number> {
    checkKey(key)
    const ttl = options.ttl === null ? '' : px(options.ttl, key)
    const tags = options.tags ?? []
    return this.#guard
      .call(
        'incr',
        async (d) => {
          const counter = counterKey(key)
          const keys = counter === undefined ? [key] : [key, counter]
          const n = Number(await runScript(d, INCR, keys, [String(delta), ttl]))
          if (tags.length > 0) await tagEntry(d, key, Buffer.from(String(n)), tags, options.ttl)
          return n
        },
        delta,
      )
      .catch((error: unknown) => {
        throw integerError(error)
      })
  }

  touch(key: string, ttl: number | null): Promise<boolean> {
    checkKey(key)
    if (ttl !== null) px(ttl, key)
    return this.#guard.call(
      'touch',
      async (d) => {
        if (ttl !== null) return Number(await d.send(['PEXPIRE', key, px(ttl, key)], key)) === 1
        const [exists] = await Promise.all([d.send(['EXISTS', key], key), d.send(['PERSIST', key], key)])
        return Number(exists) === 1
      },
      false,
    )
  }

  ttl(key: string): Promise<number | null | undefined> {
    checkKey(key)
    return this.#guard.call(
      'ttl',
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
    const masters = await this.#guard.call('keys', (d) => d.masters(), RETHROW)
    for (const send of masters) {
      for await (const page of scanPages(this.#guard, send, pattern, this.#options.scanCount, 'keys')) {
        for (const key of page) {
          if (seen.has(key)) continue
          seen.add(key)
          yield key
        }
      }
    }
  }

  /** SCAN + UNLINK in batches on every master; never KEYS, never FLUSHDB. Skips reserved keys. */
  deletePattern(pattern: string): Promise<number> {
    return deleteMatching(this.#guard, pattern, this.#options.scanCount)
  }

  /** Removes every entry written with the tag, without scanning the keyspace (see tags.ts). */
  deleteByTag(tag: string): Promise<number> {
    return this.#guard.call('deleteByTag', (d) => deleteTagged(d, tag), 0)
  }

  /** Makes every entry written with the tag stale, keeping value and TTL (see tags.ts). */
  expireByTag(tag: string, staleAt: number): Promise<number> {
    return this.#guard.call('expireByTag', (d) => expireTagged(d, tag, staleAt), 0)
  }

  stats(): RedisStoreStats {
    return redisStoreStats(this.#guard, this.#subscriptions)
  }

  /** Redis INFO figures (summed over masters in Cluster) and the DB size. */
  inspect(): Promise<RedisInspection> {
    return this.#guard.call('inspect', async (d) => inspectNodes(d.topology, await d.masters()), RETHROW)
  }

  /**
   * Sends one keyless command to every master under the store's deadline and breaker, for the
   * CLI's doctor and stats (CONFIG GET, INFO sections, CLUSTER INFO). Replies in master order.
   * @internal
   */
  sendToMasters(args: readonly string[]): Promise<unknown[]> {
    return this.#guard.call(
      'sendToMasters',
      async (d) => Promise.all((await d.masters()).map((send) => send(args))),
      RETHROW,
    )
  }

  /**
   * An invalidation bus over this Redis's pub/sub, for tiered caches: `createCache({ tiers: [l1,
   * store] })` uses it unless given another. Its subscription shares the store's pub/sub connection;
   * the tiered store trusts its L1 only while the subscription is live (status up). Sharded on
   * Cluster (see `shardedPubSub`).
   */
  invalidationBus(channel = DEFAULT_CHANNEL): InvalidationBus {
    const sharded = this.#sharded
    return redisInvalidationBus(
      {
        publish: (name, payload) =>
          this.#guard.call(
            'invalidationBus',
            (d) => publishVia(d, sharded, name, payload).then(() => undefined),
            RETHROW,
          ),
        subscribe: (name, listener, status) => this.#subscribe(name, listener, status, sharded),
        inOrderWith: (store) => store === this && this.#guard.driver?.topology === 'standalone',
      },
      channel,
    )
  }

  /** Leases for getOrSet's single flight across processes (see leases.ts). */
  leases(): StoreLeases {
    this.#leases ??= redisLeases({
      setIfAbsent: (key, token, ttl) =>
        this.#guard.call(
          'leases',
          (d) => d.send(['SET', key, token, 'NX', 'PX', String(ttl)], key).then((reply) => reply !== null),
          RETHROW,
        ),
      run: (s, keys, args) => this.#guard.call('leases', (d) => runScript(d, s, keys, args), RETHROW),
      subscribe: (channel, listener, status) => this.#subscribe(channel, listener, status),
    })
    return this.#leases
  }

  /**
   * A pub/sub channel on this Redis: `publish` goes through the store's deadline and breaker;
   * `subscribe` registers at once and resolves to its unsubscribe function; the subscription runs on
   * the store's one pub/sub connection, is retried until the server accepts it and survives
   * reconnects (`stats().subscriptions` says whether it is live). Messages are at-most-once, as
   * Redis pub/sub is. On Cluster it is sharded (SPUBLISH, SSUBSCRIBE on the node owning the
   * channel's slot) unless the store's `shardedPubSub` or `options.sharded` says otherwise.
   */
  channel(name: string, options: PubSubChannelOptions = {}): PubSubChannel {
    const sharded = this.#sharded && options.sharded !== false
    return pubSubChannel(this.#guard, name, sharded, (...args) => this.#subscribe(...args))
  }

  /** Runs Lua scripts on this Redis under the store's deadline and breaker (for rate limiting, locks). */
  scriptRunner(): ScriptRunner {
    const guard = this.#guard
    return {
      run: (s, keys, args) =>
        guard.call('scriptRunner', (d) => runScript(d, s, keys, args.map(String)), RETHROW),
      get anySlot() {
        const topology = guard.driver?.topology
        return topology !== undefined && topology !== 'cluster'
      },
    }
  }

  /**
   * Closes the store within 2 s whatever its state. Calls already accepted (writes, lease releases,
   * invalidations in flight, calls waiting for the first connection) get up to 1 s to finish; new
   * calls are refused with `CacheClosedError`. Then every subscription and retry loop stops, every
   * connection the store opened is destroyed (half-made ones included) and node-redis's reconnect
   * timer is waited out, so no handle of the store keeps the process alive. A client passed in
   * stays open. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  // -- internals ------------------------------------------------------------------------------

  async #close(): Promise<void> {
    const started = performance.now()
    await this.#guard.drain()
    const left = () => CLOSE_BUDGET_MS - (performance.now() - started)
    const driver: RedisDriver | undefined = this.#guard.driver
    await within(
      Promise.all([this.#subscriptions.close().catch(() => {}), driver?.close().catch(() => {})]),
      Math.max(0, left() - 100),
    )
    await this.#guard.settle(left())
    this.#guard.finish()
  }

  #subscribe(
    channel: string,
    listener: (message: Buffer) => void,
    status: SubscriptionStatus,
    sharded = false,
  ): Promise<Unsubscribe> {
    try {
      return Promise.resolve(this.#subscriptions.add(channel, listener, status, sharded))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/** Creates a {@link RedisStore}. Connects in the background; never blocks or throws on a down Redis. */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options)
}
