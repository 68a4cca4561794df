import type { Codec } from '../codec/index.js'
import { CorruptValueError, InvalidOptionError } from '../errors.js'
import { type Clock, type MaybePromise, within } from '../internal/index.js'
import { channel } from '../observe/index.js'
import type {
  CompleteStore,
  Store,
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreLeases,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from '../stores/index.js'
import { BACKING, type Backing, backingThrough } from '../stores/index.js'
import { type Invalidation, type InvalidationBus, instanceId } from './bus.js'
import { fromL2, isCounter, toL2 } from './l2-form.js'

/** How long `close()` waits for the bus to stop delivering before it releases the tiers anyway. */
const UNSUBSCRIBE_WAIT_MS = 300

export interface TieredStoreOptions {
  /** The longest an L1 copy lives, whatever the entry's TTL (`null`: no cap). */
  readonly l1Ttl: number | null
  /** Carries invalidations to the other instances; none for a single instance. */
  readonly bus: InvalidationBus | undefined
  /**
   * True while an invalidation published right after an L2 write was sent cannot overtake it
   * (the bus's {@link InvalidationBus.inOrderWith} for the L2 tier); absent: never.
   */
  readonly inOrder?: () => boolean
  /** Encodes L2 entries when L2 keeps bytes. */
  readonly codec: Codec | undefined
  readonly clock: Clock
  /** Releases the two tiers (each closes when no other cache uses it). */
  readonly release: () => Promise<void>
}

/** A tiered store's entry: L2's, with the tags folded into it (so `cache.expire` keeps them). */
export type TieredEntry = StoreEntry & { readonly tags: readonly string[] | undefined }

/** Reads of a tiered store by the tier that answered them (see {@link TieredStore.stats}). */
export interface TierReads {
  readonly l1Hits: number
  readonly l2Hits: number
  readonly misses: number
}

/**
 * L1 (in-process) over L2 (shared) as one store: reads try L1 and refill it from L2 with the
 * entry's remaining TTL; writes and deletes go to L2 then L1, then out on the bus so every other
 * instance drops its L1 copy. While the bus is down, reads skip L1 (it may be missing
 * invalidations), and L1 is emptied when the bus comes back.
 *
 * Tags travel inside L2 entries, so an L1 filled from L2 knows them and a remote `deleteByTag`
 * reaches it.
 */
export class TieredStore implements StoreCore, StoreExtras {
  readonly name: string
  readonly capabilities: StoreCapabilities
  readonly #reads = { l1Hits: 0, l2Hits: 0, misses: 0 }
  /** L2's leases: the single flight of getOrSet spans every instance sharing L2. */
  readonly leases?: () => StoreLeases
  readonly #l1: CompleteStore
  readonly #l2: CompleteStore
  readonly #options: TieredStoreOptions
  readonly #origin = instanceId()
  /** Bumped by every invalidation; a refill started under an older epoch is dropped. */
  #epoch = 0
  #busUp: boolean
  #errors = 0
  #unsubscribe: Promise<() => Promise<void>> | undefined
  /** Tells a bus still subscribing that the store is closing. */
  readonly #subscribing = new AbortController()

  constructor(
    /** The two tiers as they were given: `[l1, l2]`. */
    readonly tiers: readonly [Store, Store],
    l1: CompleteStore,
    l2: CompleteStore,
    options: TieredStoreOptions,
  ) {
    if (l1.capabilities.valueKind !== 'value' || l1.capabilities.shared) {
      throw new InvalidOptionError(
        `The first tier must be an in-process store such as memoryStore(), not ${l1.name}`,
      )
    }
    this.#l1 = l1
    this.#l2 = l2
    this.#options = options
    this.name = `tiered(${l1.name}, ${l2.name})`
    this.capabilities = { ...l2.capabilities, valueKind: 'value' }
    const l2Leases = l2.leases
    if (l2Leases) this.leases = () => l2Leases()
    this.#busUp = options.bus === undefined
    this.#unsubscribe = options.bus?.subscribe(
      {
        message: (invalidation) => {
          if (invalidation.origin !== this.#origin) void this.#dropL1(invalidation)
        },
        down: () => {
          this.#busUp = false
          this.#epoch++
        },
        up: () => {
          // Whatever happened while we were deaf is unknown: start L1 afresh.
          this.#epoch++
          void this.#l1.deletePattern('*')
          this.#busUp = true
        },
      },
      this.#subscribing.signal,
    )
    this.#unsubscribe?.catch((error) => this.#failed('subscribe', error))
  }

  /** Stands for its shared (second) tier, where state other instances see lives (see {@link BACKING}). */
  [BACKING](): Backing {
    return backingThrough(this.tiers[1])
  }

  get(key: string): MaybePromise<unknown> {
    if (this.#busUp) {
      const hit = this.#l1.get(key)
      if (hit instanceof Promise)
        return hit.then((value) => {
          if (value === undefined) return this.#fromL2(key)
          this.#reads.l1Hits++
          return value
        })
      if (hit !== undefined) {
        this.#reads.l1Hits++
        return hit
      }
    }
    return this.#fromL2(key)
  }

  async getEntry(key: string): Promise<TieredEntry | undefined> {
    const entry = await this.#l2.getEntry(key)
    return entry && { ...this.#decode(entry.value), expiresAt: entry.expiresAt }
  }

  async has(key: string): Promise<boolean> {
    return (this.#busUp && (await this.#l1.has(key))) || this.#l2.has(key)
  }

  async set(key: string, value: unknown, options: StoreWriteOptions): Promise<void> {
    const l2 = this.#l2.set(key, this.#encode(value, options.tags), options)
    return this.#written(l2, () => this.#l1.set(key, value, this.#l1Options(options)), { keys: [key] })
  }

  /**
   * `set` with a route: with `l2: false` only L1 is written (L2 keeps what it had); with
   * `bus: false` no invalidation goes out, so other instances keep their L1 copies.
   */
  async setRouted(
    key: string,
    value: unknown,
    options: StoreWriteOptions,
    route: { readonly l2: boolean; readonly bus: boolean },
  ): Promise<void> {
    if (route.l2 && route.bus) return this.set(key, value, options)
    if (route.l2) await this.#l2.set(key, this.#encode(value, options.tags), options)
    await this.#l1.set(key, value, this.#l1Options(options))
    if (route.bus) await this.#publish({ keys: [key] })
    else this.#epoch++
  }

  async add(key: string, value: unknown, options: StoreWriteOptions): Promise<boolean> {
    const added = await this.#l2.add(key, this.#encode(value, options.tags), options)
    if (added) {
      await this.#l1.set(key, value, this.#l1Options(options))
      await this.#publish({ keys: [key] })
    }
    return added
  }

  async getMany(keys: readonly string[]): Promise<readonly unknown[]> {
    const found = this.#busUp ? [...(await this.#l1.getMany(keys))] : keys.map(() => undefined)
    await Promise.all(
      found.map(async (value, i) => {
        if (value === undefined) found[i] = await this.#fromL2(keys[i] as string).catch(unreadableAsMiss)
      }),
    )
    return found
  }

  async setMany(writes: readonly StoreWrite[]): Promise<void> {
    const l2 = this.#l2.setMany(
      writes.map((write) => ({ ...write, value: this.#encode(write.value, write.tags) })),
    )
    const setL1 = () => this.#l1.setMany(writes.map((write) => ({ ...write, ...this.#l1Options(write) })))
    return this.#written(l2, setL1, { keys: writes.map((write) => write.key) })
  }

  async delete(key: string): Promise<boolean> {
    return this.#written(this.#l2.delete(key), () => this.#l1.delete(key), { keys: [key] })
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    return this.#written(this.#l2.deleteMany(keys), () => this.#l1.deleteMany(keys), { keys })
  }

  async incr(key: string, delta: number, options: StoreWriteOptions): Promise<number> {
    const result = await this.#l2.incr(key, delta, options)
    await this.#l1.delete(key)
    await this.#publish({ keys: [key] })
    return result
  }

  async touch(key: string, ttl: number | null): Promise<boolean> {
    const touched = await this.#l2.touch(key, ttl)
    await this.#l1.delete(key)
    await this.#publish({ keys: [key] })
    return touched
  }

  ttl(key: string): MaybePromise<number | null | undefined> {
    return this.#l2.ttl(key)
  }

  keys(pattern: string): AsyncIterable<string> {
    return this.#l2.keys(pattern)
  }

  async deletePattern(pattern: string): Promise<number> {
    const deleted = await this.#l2.deletePattern(pattern)
    await this.#l1.deletePattern(pattern)
    await this.#publish({ patterns: [pattern] })
    return deleted
  }

  async deleteByTag(tag: string): Promise<number> {
    const deleted = await this.#l2.deleteByTag(tag)
    await this.#l1.deleteByTag(tag)
    await this.#publish({ tags: [tag] })
    return deleted
  }

  /**
   * Makes the tag's entries stale in L2 and L1; other instances drop their L1 copies of the tag
   * and refill them (stale) from L2 when next asked.
   */
  async expireByTag(tag: string, staleAt: number): Promise<number> {
    const touched = await this.#l2.expireByTag(tag, staleAt)
    await this.#l1.expireByTag(tag, staleAt)
    await this.#publish({ tags: [tag] })
    return touched
  }

  /**
   * L1's figures at the top level, L2's under `l2`, and `tiers`: reads answered by L1, by L2, and
   * by neither (an expired or stale entry read from L2 counts as an L2 hit here and as a miss in
   * the cache's own `hits`/`misses`, which judge freshness).
   */
  stats(): StoreStats & { readonly l2: StoreStats; readonly tiers: TierReads } {
    const l2 = this.#l2.stats()
    return { ...this.#l1.stats(), errors: this.#errors + (l2.errors ?? 0), l2, tiers: { ...this.#reads } }
  }

  /** Ready when both tiers are. */
  async ready(): Promise<void> {
    await Promise.all([this.#l1.ready?.(), this.#l2.ready?.()])
  }

  /**
   * Stops the bus subscription and releases both tiers, within a bounded time: a subscription
   * still coming up (Redis down, no channel access) is cancelled rather than awaited, and stopped
   * should it come up later.
   */
  async close(): Promise<void> {
    const pending = this.#unsubscribe
    this.#unsubscribe = undefined
    this.#subscribing.abort()
    if (pending) {
      const stop = pending.then(
        (unsubscribe) => unsubscribe().catch((error: unknown) => this.#failed('unsubscribe', error)),
        () => {},
      )
      await within(stop, UNSUBSCRIBE_WAIT_MS)
    }
    await this.#options.release()
  }

  /** Reads L2 and refills L1 with the remaining TTL, unless an invalidation came in meanwhile. */
  async #fromL2(key: string): Promise<unknown> {
    const epoch = this.#epoch
    const entry = await this.#l2.getEntry(key)
    if (entry === undefined) {
      this.#reads.misses++
      return undefined
    }
    this.#reads.l2Hits++
    const { value, tags } = this.#decode(entry.value)
    const left = entry.expiresAt === null ? null : entry.expiresAt - this.#options.clock.now()
    // A bare counter carries no tags: an L1 copy of it could miss a remote deleteByTag, and a
    // counter changes too often for a copy to help anyway.
    const refill = !isCounter(value)
    if (refill && this.#busUp && epoch === this.#epoch && (left === null || left > 0)) {
      await this.#l1.set(key, value, this.#l1Options({ ttl: left, tags }))
    }
    return value
  }

  #encode(value: unknown, tags: readonly string[] | undefined): unknown {
    return toL2(value, tags, this.#options.codec)
  }

  #decode(raw: unknown): { value: unknown; tags: readonly string[] | undefined } {
    return fromL2(raw, this.#options.codec)
  }

  #l1Options(options: StoreWriteOptions): StoreWriteOptions {
    const cap = this.#options.l1Ttl
    const ttl = cap === null ? options.ttl : options.ttl === null ? cap : Math.min(cap, options.ttl)
    return { ttl, tags: options.tags }
  }

  async #dropL1(invalidation: Invalidation): Promise<void> {
    this.#epoch++
    try {
      if (invalidation.keys?.length) await this.#l1.deleteMany(invalidation.keys)
      for (const pattern of invalidation.patterns ?? []) await this.#l1.deletePattern(pattern)
      for (const tag of invalidation.tags ?? []) await this.#l1.deleteByTag(tag)
    } catch (error) {
      this.#failed('invalidate', error)
    }
  }

  #failed(operation: string, error: unknown): void {
    this.#errors++
    if (channel.error.hasSubscribers) {
      channel.error.publish({
        type: 'error',
        prefix: '',
        namespace: '',
        operation: `tiers.${operation}`,
        error,
      })
    }
  }

  /**
   * Finishes a write whose L2 command is on its way (`l2`): L1 is updated once L2 took it, and the
   * other instances are told. Their L1 must not refill from the old L2 value, so the message may
   * not reach them before the write took effect: it leaves at once, in the same round trip, when
   * the bus vouches it cannot overtake the write (`inOrder`: one connection to one server, which
   * runs them in order), else only once L2 has answered (two round trips).
   */
  async #written<T>(
    l2: MaybePromise<T>,
    l1: () => unknown,
    invalidation: Omit<Invalidation, 'origin'>,
  ): Promise<T> {
    // A failed write's early message only costs the others an L1 refill: it never rejects.
    const early = this.#options.inOrder?.() ? this.#publish(invalidation) : undefined
    const result = await l2
    await l1()
    await (early ?? this.#publish(invalidation))
    return result
  }

  async #publish(invalidation: Omit<Invalidation, 'origin'>): Promise<void> {
    this.#epoch++
    const { bus } = this.#options
    if (!bus) return
    try {
      await bus.publish({ origin: this.#origin, ...invalidation })
    } catch (error) {
      this.#failed('publish', error)
    }
  }
}

/** One unreadable L2 entry in a batch is a miss for that key, as a single `get` reads it. */
function unreadableAsMiss(error: unknown): undefined {
  if (error instanceof CorruptValueError) return undefined
  throw error
}
