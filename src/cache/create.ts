import { type Codec, type CodecOptions, createCodec } from '../codec/index.js'
import { InvalidOptionError } from '../errors.js'
import { type Clock, requireTimeout, systemClock, type Ttl, ttlToMs } from '../internal/index.js'
import type { Store } from '../stores/index.js'
import { acquireStore, completeStore, releaseStore } from '../stores/index.js'
import type { InvalidationBus } from '../tiers/index.js'
import { FallbackStore, TieredStore } from '../tiers/index.js'
import { Cache } from './cache.js'
import type { GetOrSetOptions } from './get-or-set.js'
import { assertSegment, MAX_KEY_LENGTH } from './keys.js'
import type { Shared } from './shared.js'
import { checkVersion } from './versions.js'

/** Options of `createCache`: the store, prefix, default TTL, codec, events and error policy. */
export interface CacheOptions {
  /** Where entries live: `memoryStore()`, `redisStore()`, or any store that meets the contract. */
  readonly store?: Store
  /**
   * Two tiers instead of one store: `[memoryStore(), redisStore(...)]`. Reads try the first (L1)
   * and refill it from the second (L2); writes and deletes go through both, and out on `bus`.
   */
  readonly tiers?: readonly [Store, Store]
  /** With `tiers`: the longest an L1 copy lives, whatever the entry's TTL. Default: no cap. */
  readonly l1Ttl?: Ttl
  /**
   * With `tiers`: carries invalidations to the other instances, so none serves an L1 copy after
   * another instance wrote. Default: the L2 store's own bus if it has one (`redisStore` does).
   * `false`: none (a single instance).
   */
  readonly bus?: InvalidationBus | false
  /**
   * A store (SQL) to use while the store (or, with tiers, L2) is unavailable. See `FallbackStore`
   * for the rule that keeps stale data out of both when the primary returns.
   */
  readonly fallback?: Store
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

/**
 * Creates a cache over a store. Bad options throw {@link InvalidOptionError} (or
 * `InvalidTtlError`) here, at start-up, rather than on the first call.
 *
 * ```ts
 * const cache = createCache({ store: memoryStore({ maxEntries: 1000 }), prefix: 'hlvm', ttl: '5m' })
 * ```
 */
export function createCache(options: CacheOptions): Cache {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('createCache needs options: createCache({ store: memoryStore() })')
  }
  const clock = options.clock ?? systemClock
  const original = resolveStore(options, clock)
  const store = completeStore(original)
  const prefix = options.prefix ?? ''
  if (prefix !== '') assertSegment(prefix, 'prefix')
  const maxKeyLength = options.maxKeyLength ?? MAX_KEY_LENGTH
  if (!Number.isInteger(maxKeyLength) || maxKeyLength <= 0) {
    throw new InvalidOptionError(`maxKeyLength must be a whole number > 0, got ${String(maxKeyLength)}`)
  }
  const defaults = options.getOrSet ?? {}
  for (const name of ['grace', 'timeout', 'hardTimeout', 'graceBackoff'] as const) {
    if (defaults[name] !== undefined) requireTimeout(defaults[name], `getOrSet.${name}`)
  }
  if (defaults.lease) requireTimeout(defaults.lease.ttl ?? 0, 'getOrSet.lease.ttl')
  const shared: Shared = {
    store,
    original,
    codec: store.capabilities.valueKind === 'bytes' ? resolveCodec(options.codec) : undefined,
    clock,
    prefix,
    maxKeyLength,
    inflight: new Map(),
    landed: new Map(),
    reading: new Map(),
    seq: 0,
    owed: new Set(),
    abandon: new Set(),
    refreshBackoff: new Map(),
    registry: new Map(),
    changes: { seq: 0, all: 0, keys: new Map(), tags: new Map() },
    closed: false,
  }
  const cache = Cache.open(shared, {
    namespace: '',
    version: options.version === undefined ? undefined : checkVersion(options.version),
    ttl: options.ttl === undefined ? null : ttlToMs(options.ttl),
    getOrSet: defaults,
  })
  acquireStore(shared.original)
  return cache
}

/** The store the cache talks to: the one given, or the two tiers as one. */
function resolveStore(options: CacheOptions, clock: Clock): Store {
  if (options.tiers === undefined) {
    if (options.store === undefined) {
      throw new InvalidOptionError('createCache needs a store: createCache({ store: memoryStore() })')
    }
    return withFallback(options.store, options, clock)
  }
  if (options.store !== undefined) {
    throw new InvalidOptionError('Give createCache either store or tiers, not both')
  }
  if (!Array.isArray(options.tiers) || options.tiers.length !== 2) {
    throw new InvalidOptionError('tiers must be two stores: [memoryStore(), redisStore(...)]')
  }
  for (const tier of options.tiers) acquireStore(tier)
  const l1 = completeStore(options.tiers[0])
  const l2 = completeStore(withFallback(options.tiers[1], options, clock, false))
  const bus = options.bus === false ? undefined : (options.bus ?? busOf(options.tiers[1]))
  // Writes through a fallback store may go elsewhere, and later: only a bare L2 can be vouched for.
  const shared = options.tiers[1]
  const inOrderWith = options.fallback === undefined ? bus?.inOrderWith?.bind(bus) : undefined
  return new TieredStore(options.tiers, l1, l2, {
    l1Ttl: options.l1Ttl === undefined ? null : ttlToMs(options.l1Ttl),
    bus,
    ...(inOrderWith ? { inOrder: () => inOrderWith(shared) } : {}),
    codec: l2.capabilities.valueKind === 'bytes' ? resolveCodec(options.codec) : undefined,
    clock,
    release: async () => {
      for (const tier of options.tiers ?? []) await releaseStore(tier)
    },
  })
}

/** The primary wrapped with the cache's fallback store, when it has one. */
function withFallback(primary: Store, options: CacheOptions, clock: Clock, owned = true): Store {
  const { fallback } = options
  if (fallback === undefined) return primary
  if (owned) acquireStore(primary)
  acquireStore(fallback)
  return new FallbackStore(completeStore(primary), completeStore(fallback), {
    clock,
    release: async () => {
      if (owned) await releaseStore(primary)
      await releaseStore(fallback)
    },
  })
}

/** A store may offer an invalidation bus of its own (the Redis store does, over pub/sub). */
function busOf(store: Store): InvalidationBus | undefined {
  const candidate = store as Store & { invalidationBus?: () => InvalidationBus }
  return typeof candidate.invalidationBus === 'function' ? candidate.invalidationBus() : undefined
}

function resolveCodec(option: CodecOptions | Codec | undefined): Codec {
  if (option && 'encode' in option && 'decode' in option) return option
  return createCodec(option as CodecOptions | undefined)
}
