import { type Codec, type CodecOptions, createCodec } from '../codec/codec.js'
import { InvalidOptionError } from '../errors.js'
import { type Clock, systemClock } from '../internal/clock.js'
import { requireDuration, type Ttl, ttlToMs } from '../internal/duration.js'
import { completeStore } from '../stores/complete.js'
import type { Store } from '../stores/types.js'
import { Cache, checkVersion } from './cache.js'
import type { GetOrSetOptions } from './get-or-set.js'
import { assertSegment, MAX_KEY_LENGTH } from './keys.js'
import { acquireStore, type Shared } from './shared.js'

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
  const store = completeStore(options.store)
  const prefix = options.prefix ?? ''
  if (prefix !== '') assertSegment(prefix, 'prefix')
  const maxKeyLength = options.maxKeyLength ?? MAX_KEY_LENGTH
  if (!Number.isInteger(maxKeyLength) || maxKeyLength <= 0) {
    throw new InvalidOptionError(`maxKeyLength must be a whole number > 0, got ${String(maxKeyLength)}`)
  }
  const defaults = options.getOrSet ?? {}
  for (const name of ['grace', 'timeout', 'hardTimeout', 'graceBackoff'] as const) {
    if (defaults[name] !== undefined) requireDuration(defaults[name], `getOrSet.${name}`)
  }
  const shared: Shared = {
    store,
    original: options.store,
    codec: store.capabilities.valueKind === 'bytes' ? resolveCodec(options.codec) : undefined,
    clock: options.clock ?? systemClock,
    prefix,
    maxKeyLength,
    inflight: new Map(),
    refreshBackoff: new Map(),
    registry: new Map(),
    closed: false,
  }
  const cache = new Cache(shared, {
    namespace: '',
    version: options.version === undefined ? undefined : checkVersion(options.version),
    ttl: options.ttl === undefined ? null : ttlToMs(options.ttl),
    getOrSet: defaults,
  })
  acquireStore(options.store)
  return cache
}

function resolveCodec(option: CodecOptions | Codec | undefined): Codec {
  if (option && 'encode' in option && 'decode' in option) return option
  return createCodec(option as CodecOptions | undefined)
}
