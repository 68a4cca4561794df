import { LRUCache } from 'lru-cache'
import { copyMutableParts, Envelope, snapshot } from '../../codec/value.js'
import { CacheClosedError, InvalidOptionError, NotAnIntegerError } from '../../errors.js'
import type { Clock } from '../../internal/clock.js'
import { systemClock } from '../../internal/clock.js'
import { globMatcher } from '../../internal/glob.js'
import type {
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from '../types.js'

/**
 * What a caller gets back from a read, and so what mutating it can do.
 *
 * - `'freeze'` (default): values are deep-copied on write and their objects and arrays frozen, so a
 *   read costs nothing and a mutation throws a `TypeError` instead of silently changing the cache.
 *   JavaScript cannot freeze `Date`, `Map`, `Set` and typed arrays: a read gets fresh copies of
 *   those (and of the frozen objects on the way to them, every other part shared), so mutating
 *   one changes only the caller's copy.
 * - `'clone'`: a deep copy on write and on every read; callers get mutable values. Slowest reads.
 * - `'reference'`: the caller's own object is kept and returned, like lru-cache. Fastest, and a
 *   mutation by anyone is seen by everyone: only for values you never mutate.
 */
export type MutationPolicy = 'freeze' | 'clone' | 'reference'

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

const CAPABILITIES: StoreCapabilities = { valueKind: 'value', atomic: true, shared: false, tags: true }

/** Marks an entry whose value must be copied on each read (see {@link MutationPolicy}). */
class CopyOnRead {
  constructor(readonly value: unknown) {}
}

/**
 * An in-process store: LRU bounded by entries and/or bytes, TTL per entry checked on read (no timer
 * per entry), values kept decoded so a hit costs no decode. Built on lru-cache.
 */
export class MemoryStore implements StoreCore, StoreExtras {
  readonly name = 'memory'
  readonly capabilities = CAPABILITIES
  readonly #lru: LRUCache<string, object | string | number | boolean | bigint | symbol>
  readonly #mutation: MutationPolicy
  readonly #trackBytes: boolean
  readonly #clock: Clock
  readonly #tagKeys = new Map<string, Set<string>>()
  readonly #keyTags = new Map<string, readonly string[]>()
  #evictions = 0
  #closed = false

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries, maxBytes, mutation = 'freeze', clock = systemClock } = options
    if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries > 0)) {
      throw new InvalidOptionError(
        `memoryStore maxEntries must be a whole number > 0, got ${String(maxEntries)}`,
      )
    }
    if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
      throw new InvalidOptionError(`memoryStore maxBytes must be a whole number > 0, got ${String(maxBytes)}`)
    }
    if (mutation !== 'freeze' && mutation !== 'clone' && mutation !== 'reference') {
      throw new InvalidOptionError(
        `memoryStore mutation must be 'freeze', 'clone' or 'reference', got ${String(mutation)}`,
      )
    }
    this.#mutation = mutation
    this.#trackBytes = maxBytes !== undefined
    this.#clock = clock
    this.#lru = new LRUCache({
      max: maxEntries ?? (maxBytes === undefined ? 10_000 : 0),
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes, maxEntrySize: maxBytes }),
      ttlAutopurge: false,
      updateAgeOnGet: false,
      allowStale: false,
      // lru-cache's default caches "now" until a timer fires, which a busy promise chain never
      // lets happen: entries would outlive their TTL. Read the clock on every check instead.
      ttlResolution: 0,
      ...(clock === systemClock ? {} : { perf: clock }),
      dispose: (_value, key, reason) => {
        if (reason === 'evict') this.#evictions++
        if (this.#keyTags.size > 0) this.#untag(key)
      },
    })
  }

  get(key: string): unknown {
    this.#open()
    const stored = this.#lru.get(key)
    return stored instanceof CopyOnRead ? this.#copy(stored.value) : stored
  }

  getEntry(key: string): StoreEntry | undefined {
    const value = this.get(key)
    if (value === undefined) return undefined
    return { value, expiresAt: this.#expiresAt(key) }
  }

  has(key: string): boolean {
    this.#open()
    return this.#lru.has(key)
  }

  set(key: string, value: unknown, options: StoreWriteOptions): void {
    this.#open()
    this.#write(key, this.#prepare(value), options)
  }

  add(key: string, value: unknown, options: StoreWriteOptions): boolean {
    this.#open()
    const prepared = this.#prepare(value)
    if (this.#lru.has(key)) return false
    this.#write(key, prepared, options)
    return true
  }

  getMany(keys: readonly string[]): unknown[] {
    return keys.map((key) => this.get(key))
  }

  setMany(writes: readonly StoreWrite[]): void {
    this.#open()
    // Prepare every value first: one that cannot be stored aborts the batch before any write.
    const prepared = writes.map((write) => this.#prepare(write.value))
    for (const [i, write] of writes.entries()) this.#write(write.key, prepared[i] as Prepared, write)
  }

  delete(key: string): boolean {
    this.#open()
    // An expired entry may still sit in the LRU until it is read; it does not count as existing.
    const existed = this.#lru.has(key)
    this.#lru.delete(key)
    return existed
  }

  deleteMany(keys: readonly string[]): number {
    let deleted = 0
    for (const key of keys) if (this.delete(key)) deleted++
    return deleted
  }

  incr(key: string, delta: number, options: StoreWriteOptions): number {
    this.#open()
    const current = this.#lru.get(key)
    if (current === undefined) {
      this.#write(key, { stored: delta, bytes: 8 }, options)
      return delta
    }
    if (typeof current !== 'number' || !Number.isInteger(current)) {
      throw new NotAnIntegerError(
        `Cannot increment: the stored value is not an integer; set it to a number first`,
      )
    }
    const next = current + delta
    if (!Number.isSafeInteger(next)) {
      throw new NotAnIntegerError(`Cannot increment: ${current} + ${delta} leaves the safe integer range`)
    }
    this.#lru.set(key, next, {
      noUpdateTTL: true,
      noDisposeOnSet: true,
      ...(this.#trackBytes ? { size: 8 } : {}),
    })
    return next
  }

  touch(key: string, ttl: number | null): boolean {
    this.#open()
    const stored = this.#lru.get(key)
    if (stored === undefined) return false
    const size = this.#lru.info(key)?.size
    this.#lru.set(key, stored, {
      ttl: ttl ?? 0,
      noDisposeOnSet: true,
      ...(size === undefined ? {} : { size }),
    })
    return true
  }

  ttl(key: string): number | null | undefined {
    this.#open()
    if (!this.#lru.has(key)) return undefined
    const left = this.#lru.getRemainingTTL(key)
    return left === Number.POSITIVE_INFINITY ? null : Math.max(0, Math.floor(left))
  }

  async *keys(pattern: string): AsyncGenerator<string> {
    this.#open()
    const matches = globMatcher(pattern)
    // Snapshot the matches first so callers may delete while iterating.
    const found: string[] = []
    for (const key of this.#lru.keys()) if (matches(key) && this.#lru.has(key)) found.push(key)
    yield* found
  }

  deletePattern(pattern: string): number {
    this.#open()
    const matches = globMatcher(pattern)
    const found: string[] = []
    for (const key of this.#lru.keys()) if (matches(key)) found.push(key)
    return this.deleteMany(found)
  }

  deleteByTag(tag: string): number {
    this.#open()
    const keys = this.#tagKeys.get(tag)
    return keys ? this.deleteMany([...keys]) : 0
  }

  expireByTag(tag: string, staleAt: number): number {
    this.#open()
    let touched = 0
    for (const key of [...(this.#tagKeys.get(tag) ?? [])]) {
      const stored = this.#lru.peek(key)
      if (stored === undefined) continue
      const copied = stored instanceof CopyOnRead
      const inner = copied ? stored.value : stored
      touched++
      // As in byte stores, a bare integer has no room to say it is stale: it goes.
      if (typeof inner === 'number' && Number.isSafeInteger(inner)) {
        this.#lru.delete(key)
        continue
      }
      if (inner instanceof Envelope && inner.staleAt <= staleAt) continue
      const stale =
        inner instanceof Envelope
          ? new Envelope(inner.value, staleAt, inner.tags)
          : new Envelope(inner, staleAt)
      const size = this.#lru.info(key)?.size
      this.#lru.set(key, copied ? new CopyOnRead(stale) : stale, {
        noUpdateTTL: true,
        noDisposeOnSet: true,
        ...(size === undefined ? {} : { size }),
      })
    }
    return touched
  }

  stats(): StoreStats {
    return {
      entries: this.#lru.size,
      evictions: this.#evictions,
      ...(this.#trackBytes ? { bytes: this.#lru.calculatedSize } : {}),
    }
  }

  close(): void {
    if (this.#closed) return
    this.#lru.clear()
    this.#tagKeys.clear()
    this.#keyTags.clear()
    this.#closed = true
  }

  #prepare(value: unknown): Prepared {
    const mode = this.#mutation === 'reference' ? 'check' : this.#mutation
    const shot = snapshot(value, mode)
    const copyOnRead =
      this.#mutation === 'clone' ? typeof value === 'object' && value !== null : shot.unfreezable
    return { stored: copyOnRead ? new CopyOnRead(shot.value) : (shot.value as Storable), bytes: shot.bytes }
  }

  #write(key: string, prepared: Prepared, options: StoreWriteOptions): void {
    const ttl = options.ttl === null ? 0 : Math.max(1, Math.ceil(options.ttl))
    this.#lru.set(key, prepared.stored, {
      ttl,
      ...(this.#trackBytes ? { size: Math.max(1, prepared.bytes) } : {}),
    })
    if (options.tags && options.tags.length > 0 && this.#lru.has(key)) this.#tag(key, options.tags)
  }

  #copy(value: unknown): unknown {
    return this.#mutation === 'clone' ? snapshot(value, 'clone').value : copyMutableParts(value)
  }

  #expiresAt(key: string): number | null {
    const left = this.#lru.getRemainingTTL(key)
    return left === Number.POSITIVE_INFINITY ? null : this.#clock.now() + Math.max(0, left)
  }

  #tag(key: string, tags: readonly string[]): void {
    this.#keyTags.set(key, tags)
    for (const tag of tags) {
      let keys = this.#tagKeys.get(tag)
      if (!keys) this.#tagKeys.set(tag, (keys = new Set()))
      keys.add(key)
    }
  }

  #untag(key: string): void {
    const tags = this.#keyTags.get(key)
    if (!tags) return
    this.#keyTags.delete(key)
    for (const tag of tags) {
      const keys = this.#tagKeys.get(tag)
      if (!keys) continue
      keys.delete(key)
      if (keys.size === 0) this.#tagKeys.delete(tag)
    }
  }

  #open(): void {
    if (this.#closed) throw new CacheClosedError('This memory store was closed; create a new one')
  }
}

type Storable = object | string | number | boolean | bigint | symbol

interface Prepared {
  readonly stored: Storable
  readonly bytes: number
}

/** Creates an in-process {@link MemoryStore}. */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}
