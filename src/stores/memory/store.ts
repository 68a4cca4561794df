import { LRUCache } from 'lru-cache'
import { copyMutableParts, Envelope, snapshot } from '../../codec/index.js'
import { CacheClosedError, InvalidOptionError, NotAnIntegerError } from '../../errors.js'
import type { Clock } from '../../internal/index.js'
import { globMatcher, systemClock } from '../../internal/index.js'
import { BACKING, type Backing } from '../backing.js'
import type {
  ScopedAccess,
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from '../types.js'
import { CoarseClock } from './coarse-clock.js'
import { HomeKeys } from './home.js'
import type { MemoryStoreOptions, MutationPolicy } from './options.js'

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
  /** Keys of the owning cache kept without its prefix (see {@link HomeKeys}); tags hold inner keys. */
  readonly #keys = new HomeKeys()
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
      // lets happen: entries would outlive their TTL. It asks `perf` on every check instead, and
      // CoarseClock bounds how old its reading can be by calls as well as by time.
      ttlResolution: 0,
      perf: clock === systemClock ? new CoarseClock() : clock,
      dispose: (_value, key, reason) => {
        if (reason === 'evict') this.#evictions++
        if (this.#keyTags.size > 0) this.#untag(key)
      },
    })
  }

  /** Declares itself to the other doors (see {@link BACKING}). */
  [BACKING](): Backing {
    return { kind: 'memory', store: this }
  }

  get(key: string): unknown {
    this.#open()
    return this.#read(this.#keys.inner(key))
  }

  /**
   * Access to the keys under `base` given without it, or `undefined`. The first cache built on
   * an empty store makes its base the store's home (see {@link HomeKeys}); its hits then cost one
   * map lookup on the caller's own key string. Used by the cache; not needed by other callers.
   */
  scoped(base: string): ScopedAccess | undefined {
    if (this.#keys.home === undefined && this.#lru.size > 0) return undefined
    if (!this.#keys.claim(base)) return undefined
    // A key starting with NUL is kept whole (see HomeKeys); any other is kept as the caller's string.
    const inner = (key: string) => (key.charCodeAt(0) === 0 ? `\u0000${base}${key}` : key)
    return {
      get: (key) => {
        this.#open()
        return this.#read(inner(key))
      },
      set: (key, value, options) => {
        this.#open()
        this.#write(inner(key), this.#prepare(value), options)
      },
    }
  }

  #read(inner: string): unknown {
    const stored = this.#lru.get(inner)
    return stored instanceof CopyOnRead ? this.#copy(stored.value) : stored
  }

  getEntry(key: string): StoreEntry | undefined {
    const value = this.get(key)
    if (value === undefined) return undefined
    return { value, expiresAt: this.#expiresAt(this.#keys.inner(key)) }
  }

  has(key: string): boolean {
    this.#open()
    return this.#lru.has(this.#keys.inner(key))
  }

  set(key: string, value: unknown, options: StoreWriteOptions): void {
    this.#open()
    this.#write(this.#keys.inner(key), this.#prepare(value), options)
  }

  add(key: string, value: unknown, options: StoreWriteOptions): boolean {
    this.#open()
    const prepared = this.#prepare(value)
    const inner = this.#keys.inner(key)
    if (this.#lru.has(inner)) return false
    this.#write(inner, prepared, options)
    return true
  }

  getMany(keys: readonly string[]): unknown[] {
    return keys.map((key) => this.get(key))
  }

  setMany(writes: readonly StoreWrite[]): void {
    this.#open()
    // Prepare every value first: one that cannot be stored aborts the batch before any write.
    const prepared = writes.map((write) => this.#prepare(write.value))
    for (const [i, write] of writes.entries()) {
      this.#write(this.#keys.inner(write.key), prepared[i] as Prepared, write)
    }
  }

  delete(key: string): boolean {
    this.#open()
    return this.#delete(this.#keys.inner(key))
  }

  #delete(inner: string): boolean {
    // An expired entry may still sit in the LRU until it is read; it does not count as existing.
    const existed = this.#lru.has(inner)
    this.#lru.delete(inner)
    return existed
  }

  deleteMany(keys: readonly string[]): number {
    let deleted = 0
    for (const key of keys) if (this.delete(key)) deleted++
    return deleted
  }

  #deleteInner(inners: readonly string[]): number {
    let deleted = 0
    for (const inner of inners) if (this.#delete(inner)) deleted++
    return deleted
  }

  incr(outer: string, delta: number, options: StoreWriteOptions): number {
    this.#open()
    const key = this.#keys.inner(outer)
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

  touch(outer: string, ttl: number | null): boolean {
    this.#open()
    const key = this.#keys.inner(outer)
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

  ttl(outer: string): number | null | undefined {
    this.#open()
    const key = this.#keys.inner(outer)
    if (!this.#lru.has(key)) return undefined
    const left = this.#lru.getRemainingTTL(key)
    return left === Number.POSITIVE_INFINITY ? null : Math.max(0, Math.floor(left))
  }

  async *keys(pattern: string): AsyncGenerator<string> {
    this.#open()
    const matches = globMatcher(pattern)
    // Snapshot the matches first so callers may delete while iterating.
    const found: string[] = []
    for (const inner of this.#lru.keys()) {
      const key = this.#keys.outer(inner)
      if (matches(key) && this.#lru.has(inner)) found.push(key)
    }
    yield* found
  }

  deletePattern(pattern: string): number {
    this.#open()
    const matches = globMatcher(pattern)
    const found: string[] = []
    for (const inner of this.#lru.keys()) if (matches(this.#keys.outer(inner))) found.push(inner)
    return this.#deleteInner(found)
  }

  deleteByTag(tag: string): number {
    this.#open()
    const keys = this.#tagKeys.get(tag)
    return keys ? this.#deleteInner([...keys]) : 0
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
