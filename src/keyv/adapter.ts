import { EventEmitter } from 'node:events'
import type { KeyvStoreAdapter, StoredData } from 'keyv'
import type { Cache, SetOptions } from '../cache/index.js'
import { InvalidOptionError } from '../errors.js'
import { escapeGlob } from '../internal/index.js'

/** Options of {@link KeyvCachekit}. */
export interface KeyvCachekitOptions {
  /**
   * Reject a failed operation after emitting `'error'`. Default `false`, as in `@keyv/redis`: a
   * failed read is a miss, a failed write or delete resolves to `false`, and the error only reaches
   * `'error'` listeners (Keyv forwards them to its own). Set it together with Keyv's
   * `throwOnErrors` to see failures as rejected promises.
   */
  readonly throwOnErrors?: boolean
}

/** One Keyv entry of `setMany`. */
interface KeyvWrite {
  readonly key: string
  readonly value: unknown
  readonly ttl?: number | undefined
}

/** How many keys the iterator reads per `getMany` round trip. */
const ITERATOR_BATCH = 100

/**
 * A Keyv storage adapter over a cachekit {@link Cache}, so that Keyv, cache-manager and cacheable
 * can keep their entries in any cachekit store (memory, Redis, SQL, tiers):
 *
 * ```ts
 * const cache = createCache({ store: memoryStore(), prefix: 'app' })
 * const keyv = new Keyv({ store: new KeyvCachekit(cache) })
 * ```
 *
 * Keys reach the cache as Keyv wrote them (`namespace:key`), so Keyv's entry `foo` in namespace
 * `keyv` lives in the store as `cache.makeKey('keyv:foo')` (`app:keyv:foo` above). `clear()`
 * removes only the current Keyv namespace (or, without one, only the cache's own keys: never
 * anything outside its prefix). A Keyv TTL is milliseconds; no TTL (or `0`, which Keyv uses for
 * "none") means the cache's default TTL.
 *
 * With Keyv's `useKeyPrefix: false` keys arrive without the namespace, so `clear()` would miss
 * them: isolate with a cachekit namespace instead and give Keyv `namespace: undefined`
 * (`new Keyv({ store: new KeyvCachekit(cache.namespace('sessions')), namespace: undefined })`).
 *
 * `disconnect()` closes the cache it was given. To keep a shared cache open, give the adapter a
 * namespace of it (`new KeyvCachekit(cache.namespace('keyv'))`): closing a namespace leaves its
 * root and the store open.
 *
 * Keyv 5 wires `keyv.iterator()` only for adapters on its own list; {@link createKeyv} wires it
 * for this one. The adapter's own {@link KeyvCachekit.iterator} works with any Keyv.
 */
export class KeyvCachekit extends EventEmitter implements KeyvStoreAdapter {
  /**
   * Set by Keyv to its namespace; `clear()` and `iterator()` are limited to it. Keyv prefixes
   * keys with it itself (`namespace:key`), so the adapter does not add it again.
   */
  namespace?: string | undefined
  /**
   * Keyv reads `opts` to decide things about its adapter. `url` must be a string: Keyv calls
   * `opts.url.includes(...)` on any adapter that has an `iterator` method.
   */
  readonly opts: { readonly dialect: 'cachekit'; readonly url: string; throwOnErrors: boolean }
  /** The cache this adapter reads and writes. */
  readonly cache: Cache

  constructor(cache: Cache, options: KeyvCachekitOptions = {}) {
    super()
    if (cache === null || typeof cache !== 'object' || typeof cache.getMany !== 'function') {
      throw new InvalidOptionError(
        'KeyvCachekit needs a cachekit cache: new KeyvCachekit(createCache({ ... }))',
      )
    }
    this.cache = cache
    this.opts = { dialect: 'cachekit', url: 'cachekit:', throwOnErrors: options.throwOnErrors ?? false }
  }

  /** The stored value, or `undefined` on a miss. */
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    try {
      return await this.cache.get<StoredData<Value>>(key)
    } catch (error) {
      return this.#failed(error, undefined)
    }
  }

  /** The stored values in key order, `undefined` for each miss, in one round trip where the store batches. */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    try {
      const found = await this.cache.getMany<StoredData<Value>>(keys)
      return keys.map((key) => found.get(key))
    } catch (error) {
      return this.#failed(
        error,
        keys.map(() => undefined),
      )
    }
  }

  /** Writes a value; `ttl` in milliseconds, none (or `0`) for the cache's default. Resolves to false on failure. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    try {
      await this.cache.set(key, value, setOptions(ttl))
      return true
    } catch (error) {
      return this.#failed(error, false)
    }
  }

  /**
   * Writes several entries, one cache `setMany` per distinct TTL. Keyv types this method as
   * resolving to nothing, so `keyv.setMany()` resolves to `undefined` over this adapter (as over
   * `@keyv/redis`), not to the `boolean[]` its own type promises.
   */
  async setMany(entries: KeyvWrite[]): Promise<void> {
    const byTtl = new Map<number | undefined, Array<readonly [string, unknown]>>()
    for (const { key, value, ttl } of entries) {
      const group = ttl === 0 ? undefined : ttl
      const list = byTtl.get(group) ?? []
      list.push([key, value])
      byTtl.set(group, list)
    }
    try {
      await Promise.all([...byTtl].map(([ttl, list]) => this.cache.setMany(list, setOptions(ttl))))
    } catch (error) {
      this.#failed(error, undefined)
    }
  }

  /** True when a live value is stored under the key. */
  async has(key: string): Promise<boolean> {
    try {
      return await this.cache.has(key)
    } catch (error) {
      return this.#failed(error, false)
    }
  }

  /** {@link KeyvCachekit.has} for each key, in order. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    try {
      return await Promise.all(keys.map((key) => this.cache.has(key)))
    } catch (error) {
      return this.#failed(
        error,
        keys.map(() => false),
      )
    }
  }

  /** Removes the key; true when it existed. */
  async delete(key: string): Promise<boolean> {
    try {
      return await this.cache.delete(key)
    } catch (error) {
      return this.#failed(error, false)
    }
  }

  /** Removes the keys; true when at least one existed (as `@keyv/redis` answers). */
  async deleteMany(keys: string[]): Promise<boolean> {
    try {
      return (await this.cache.deleteMany(keys)) > 0
    } catch (error) {
      return this.#failed(error, false)
    }
  }

  /**
   * Removes the entries of the current Keyv namespace (`namespace:*` in the cache); without a
   * namespace, every key of the cache, and still nothing outside the cache's prefix.
   */
  async clear(): Promise<void> {
    try {
      if (this.namespace) await this.cache.deletePattern(`${escapeGlob(this.namespace)}:*`)
      else await this.cache.clear()
    } catch (error) {
      this.#failed(error, undefined)
    }
  }

  /**
   * Yields `[key, storedValue]` for the entries of `namespace` (every entry of the cache without
   * one), keys as Keyv wrote them (`namespace:key`), reading values in batches.
   */
  async *iterator<Value>(
    namespace?: string,
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const pattern = namespace ? `${escapeGlob(namespace)}:*` : '*'
    try {
      let batch: string[] = []
      for await (const key of this.cache.keys(pattern)) {
        batch.push(key)
        if (batch.length < ITERATOR_BATCH) continue
        yield* this.#read<Value>(batch)
        batch = []
      }
      if (batch.length > 0) yield* this.#read<Value>(batch)
    } catch (error) {
      this.#failed(error, undefined)
    }
  }

  /** Closes the cache (see the class notes to keep a shared one open). Idempotent. */
  async disconnect(): Promise<void> {
    try {
      await this.cache.close()
    } catch (error) {
      this.#failed(error, undefined)
    }
  }

  async *#read<Value>(keys: string[]): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const found = await this.cache.getMany<Awaited<Value>>(keys)
    // A key that expired or was deleted after the listing is skipped, not yielded as undefined.
    for (const key of keys) if (found.has(key)) yield [key, found.get(key)]
  }

  /** Reports a failure to `'error'` listeners, then rejects (`throwOnErrors`) or answers `fallback`. */
  #failed<T>(error: unknown, fallback: T): T {
    // EventEmitter throws an 'error' nobody listens to; Keyv always listens, direct users may not.
    if (this.listenerCount('error') > 0) this.emit('error', error)
    if (this.opts.throwOnErrors) throw error
    return fallback
  }
}

/** Creates a {@link KeyvCachekit}: `new Keyv({ store: keyvStore(cache) })`. */
export function keyvStore(cache: Cache, options?: KeyvCachekitOptions): KeyvCachekit {
  return new KeyvCachekit(cache, options)
}

function setOptions(ttl: number | undefined): SetOptions | undefined {
  return ttl === undefined || ttl === 0 ? undefined : { ttl }
}
