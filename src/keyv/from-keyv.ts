import type { Keyv } from 'keyv'
import { CorruptValueError, InvalidOptionError, UnsupportedOperationError } from '../errors.js'
import { globMatcher } from '../internal/index.js'
import type { StoreCapabilities, StoreCore, StoreEntry, StoreWriteOptions } from '../stores/index.js'

/**
 * What {@link keyvBackedStore} needs of a Keyv instance (Keyv 5): its own methods, so any storage
 * adapter behind it works (`@keyv/sqlite`, `@keyv/postgres`, `@keyv/mongo`, `@keyv/redis`...).
 */
export interface KeyvLike {
  get(key: string, options: { raw: true }): Promise<{ value?: unknown; expires?: number | null } | undefined>
  set(key: string, value: unknown, ttl?: number): Promise<boolean>
  delete(key: string): Promise<boolean>
  /** Present when the adapter can list its keys (needed for `keys()`, `deletePattern`, `clear`). */
  iterator?: ((namespace?: string) => AsyncGenerator<unknown, void, unknown>) | undefined
  /** The adapter (Keyv's `opts.store`), to name the store. */
  readonly store?: unknown
}

/** Options of {@link keyvBackedStore}. */
export interface KeyvBackedStoreOptions {
  /**
   * Several processes see the same entries (a database or server behind Keyv). Default `true`;
   * `false` for Keyv's in-process `Map`. The cache uses it to decide what needs cross-process care.
   */
  readonly shared?: boolean
}

/**
 * A cachekit store over any Keyv instance: the reverse of `KeyvCachekit`, so a team whose data sits
 * behind a Keyv adapter (MongoDB, DynamoDB, etcd...) gets cachekit's API, getOrSet, tags kept by the
 * cache's tiers, and stats on top of it. Values go through cachekit's codec (Keyv keeps the bytes,
 * which its serializer writes losslessly), so every value cachekit stores round-trips.
 *
 * What it cannot offer is declared, so the cache and its conformance suite adapt: `add`, `incr` and
 * `touch` read then write (atomic in this process only); no tags of its own; `keys()` (and so
 * `deletePattern` and `clear`) only when the adapter has an iterator. TTLs are Keyv's (milliseconds).
 * The Keyv instance stays open on `close()`: it is the caller's.
 */
export class KeyvBackedStore implements StoreCore {
  readonly name: string
  readonly capabilities: StoreCapabilities
  readonly #keyv: KeyvLike

  constructor(instance: Keyv | KeyvLike, options: KeyvBackedStoreOptions = {}) {
    const keyv = instance as KeyvLike
    if (
      keyv === null ||
      typeof keyv !== 'object' ||
      typeof keyv.get !== 'function' ||
      typeof keyv.set !== 'function' ||
      typeof keyv.delete !== 'function'
    ) {
      throw new InvalidOptionError(
        'keyvBackedStore needs a Keyv instance: keyvBackedStore(new Keyv({ store }))',
      )
    }
    this.#keyv = keyv
    const adapter = keyv.store as { constructor?: { name?: string } } | undefined
    const kind = adapter?.constructor?.name
    this.name = kind && kind !== 'Object' ? `keyv(${kind})` : 'keyv'
    this.capabilities = { valueKind: 'bytes', atomic: false, shared: options.shared ?? true, tags: false }
  }

  async get(key: string): Promise<unknown> {
    return (await this.getEntry(key))?.value
  }

  async getEntry(key: string): Promise<StoreEntry | undefined> {
    const raw = await this.#keyv.get(key, { raw: true })
    if (raw === undefined || raw === null || raw.value === undefined) return undefined
    const expires = typeof raw.expires === 'number' ? raw.expires : null
    if (expires !== null && expires <= Date.now()) return undefined
    return { value: bytesOf(raw.value), expiresAt: expires }
  }

  async set(key: string, value: unknown, options: StoreWriteOptions): Promise<void> {
    // Keyv keeps a Buffer losslessly (its serializer writes it as base64); a Uint8Array it would not.
    const bytes = value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value
    const ok = await this.#keyv.set(key, bytes, options.ttl ?? undefined)
    if (ok === false) throw new Error(`The Keyv adapter refused to write ${JSON.stringify(key)}`)
  }

  delete(key: string): Promise<boolean> {
    return this.#keyv.delete(key)
  }

  async *keys(pattern: string): AsyncGenerator<string> {
    const iterator = this.#keyv.iterator
    if (typeof iterator !== 'function') {
      throw new UnsupportedOperationError(
        `The ${this.name} store cannot list keys (its Keyv adapter has no iterator): keys(), deletePattern and clear need one`,
      )
    }
    const matches = globMatcher(pattern)
    // Collected first, so callers may delete while iterating (the adapter's cursor stays valid).
    const found: string[] = []
    for await (const entry of iterator.call(this.#keyv)) {
      const key = Array.isArray(entry) ? entry[0] : undefined
      if (typeof key === 'string' && matches(key)) found.push(key)
    }
    yield* found
  }

  close(): void {}
}

/** The bytes of a stored value: a Buffer, or what a serializer that knows no Buffer made of one. */
function bytesOf(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === 'string' && value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64')
  const data = (value as { type?: unknown; data?: unknown } | null)?.data
  if ((value as { type?: unknown } | null)?.type === 'Buffer' && Array.isArray(data)) return Buffer.from(data)
  throw new CorruptValueError('The Keyv entry is not one cachekit wrote (expected bytes)')
}

/**
 * A cachekit store over a Keyv instance (see {@link KeyvBackedStore}):
 *
 * ```ts
 * const store = keyvBackedStore(new Keyv({ store: new KeyvPostgres({ uri }) }))
 * const cache = createCache({ store, prefix: 'app', ttl: '5m' })
 * ```
 */
export function keyvBackedStore(keyv: Keyv | KeyvLike, options?: KeyvBackedStoreOptions): KeyvBackedStore {
  return new KeyvBackedStore(keyv, options)
}
