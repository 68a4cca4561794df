import type { Cache } from '../cache/index.js'
import { type CacheOptions, createCache } from '../cache/index.js'
import type { CompressionAlgorithm } from '../codec/index.js'
import { CacheError, InvalidOptionError } from '../errors.js'
import { durationToMs, MAX_TIMEOUT_MS, MAX_TTL_MS, redactSecrets } from '../internal/index.js'
import type { Store } from '../stores/index.js'
import { memoryStore } from '../stores/memory/index.js'

/** The environment to read: `process.env` or any record of strings. */
export type Env = Readonly<Record<string, string | undefined>>

/** What {@link cacheFromEnv} read, for a startup log line (no secret in it). */
export interface EnvCacheDescription {
  readonly store: 'memory' | 'redis' | 'sql'
  readonly l1: boolean
  readonly fallback: boolean
  readonly prefix: string | undefined
  readonly ttlMs: number | null | undefined
}

const REDIS_SCHEMES = /^(redis|rediss|valkey|valkeys)(\+sentinel|\+cluster)?:\/\//i
const SQL_SCHEMES = /^(postgres|postgresql|mysql|mariadb|sqlite):/i
/** The variables `redisOptionsFromEnv` reads besides `CACHE_URL`. */
const REDIS_VARIABLES = ['REDIS_URL', 'REDIS_LOCATION', 'REDIS_SENTINELS', 'VALKEY_HOST']
const COMPRESSION = ['gzip', 'brotli', 'zstd'] as const satisfies readonly CompressionAlgorithm[]

/**
 * The cache a twelve-factor app wants, from its environment: a memory store when nothing is set
 * (development), Redis or Valkey when a Redis URL is (production), optionally with an in-process
 * L1 tier and a SQL fallback. Every variable:
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `CACHE_URL` | `memory:`, a Redis URL (`redis://`, `rediss://`, `valkey://`, `+sentinel`, `+cluster`) or a SQL URL (`postgres://`, `mysql://`, `sqlite:<path>`) | see below |
 * | `REDIS_URL`, `REDIS_LOCATION`, `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`, `VALKEY_HOST` | read when `CACHE_URL` is unset (see `redisOptionsFromEnv`) | |
 * | `CACHE_PREFIX` | key prefix | none |
 * | `CACHE_TTL` | default TTL (`5m`, `300000`, `none`) | none (entries live until evicted) |
 * | `CACHE_VERSION` | key version, a whole number | none |
 * | `CACHE_MAX_ENTRIES` | entries of the memory store or L1 | 10,000 |
 * | `CACHE_L1` | `true`: an in-process L1 over Redis, kept coherent over Redis pub/sub | `false` |
 * | `CACHE_L1_TTL` | longest life of an L1 copy | none |
 * | `CACHE_FALLBACK_URL` | a SQL URL used while Redis is out; `database` means `DATABASE_URL` | none |
 * | `CACHE_COMPRESSION` | `gzip`, `brotli`, `zstd` or `none` | `none` |
 * | `CACHE_ON_ERROR` | `throw` or `ignore` (Django's `IGNORE_EXCEPTIONS`) | `throw` |
 * | `CACHE_TIMEOUT` | deadline of one store call (`100ms`) | the store's |
 *
 * A value that cannot work is an `InvalidOptionError` naming the variable and saying what it
 * takes; a password in a URL never appears in it. The Redis and SQL doors are loaded only when
 * the environment asks for them, so an app on the memory store needs neither client library.
 */
export async function cacheFromEnv(env: Env = process.env, overrides: CacheOptions = {}): Promise<Cache> {
  return (await describeAndCreate(env, overrides)).cache
}

/** {@link cacheFromEnv}, with a description of what it built (for a startup log line). */
export async function describeAndCreate(
  env: Env = process.env,
  overrides: CacheOptions = {},
): Promise<{ cache: Cache; description: EnvCacheDescription }> {
  const read = reader(env)
  const prefix = read.text('CACHE_PREFIX')
  const ttl = read.ttl('CACHE_TTL')
  const version = read.integer('CACHE_VERSION', 0, Number.MAX_SAFE_INTEGER)
  const maxEntries = read.integer('CACHE_MAX_ENTRIES', 1, 1e9) ?? 10_000
  const l1 = read.flag('CACHE_L1')
  const l1Ttl = read.ttl('CACHE_L1_TTL')
  const onError = read.oneOf('CACHE_ON_ERROR', ['throw', 'ignore'] as const)
  const timeout = read.timeout('CACHE_TIMEOUT')
  const compression = read.oneOf('CACHE_COMPRESSION', [...COMPRESSION, 'none'] as const)
  let fallbackUrl = read.text('CACHE_FALLBACK_URL')
  if (fallbackUrl?.toLowerCase() === 'database') {
    fallbackUrl = read.text('DATABASE_URL')
    if (fallbackUrl === undefined) {
      throw new InvalidOptionError('CACHE_FALLBACK_URL is "database" but DATABASE_URL is not set')
    }
  }
  if (fallbackUrl !== undefined && !SQL_SCHEMES.test(fallbackUrl)) {
    throw new InvalidOptionError(
      `CACHE_FALLBACK_URL must be a SQL URL (postgres://, mysql://, sqlite:<path>), got ${redactSecrets(fallbackUrl)}`,
    )
  }

  const storeOptions = { ...(onError ? { onError } : {}), ...(timeout === undefined ? {} : { timeout }) }
  const cacheUrl = read.text('CACHE_URL')
  let primary: Store
  let kind: EnvCacheDescription['store']
  if (cacheUrl === undefined && REDIS_VARIABLES.some((name) => read.text(name) !== undefined)) {
    // Loaded only now: an app on the memory store needs no Redis client library.
    const { redisOptionsFromEnv, redisStore } = await import('../stores/redis/index.js')
    const redis = redisOptionsFromEnv(env, storeOptions)
    primary = wrap('REDIS_URL', () => redisStore(redis ?? { url: '' }))
    kind = 'redis'
  } else if (cacheUrl === undefined || /^memory:/i.test(cacheUrl)) {
    primary = memoryStore({ maxEntries })
    kind = 'memory'
  } else if (REDIS_SCHEMES.test(cacheUrl)) {
    const { redisStore } = await import('../stores/redis/index.js')
    primary = wrap('CACHE_URL', () => redisStore({ url: cacheUrl, ...storeOptions }))
    kind = 'redis'
  } else if (SQL_SCHEMES.test(cacheUrl)) {
    const { sqlStore } = await import('../stores/sql/index.js')
    primary = wrap('CACHE_URL', () => sqlStore({ url: cacheUrl, ...storeOptions }))
    kind = 'sql'
  } else {
    throw new InvalidOptionError(
      `CACHE_URL must be memory:, a Redis URL (redis://, rediss://, valkey://) or a SQL URL (postgres://, mysql://, sqlite:<path>), got ${redactSecrets(cacheUrl)}`,
    )
  }
  if (l1 && kind !== 'redis') {
    throw new InvalidOptionError(
      'CACHE_L1=true needs a Redis store (set CACHE_URL or REDIS_URL to a Redis URL)',
    )
  }
  if (fallbackUrl !== undefined && kind !== 'redis') {
    throw new InvalidOptionError('CACHE_FALLBACK_URL needs a Redis store to fall back from')
  }
  let fallback: Store | undefined
  if (fallbackUrl !== undefined) {
    const { sqlStore } = await import('../stores/sql/index.js')
    const url = fallbackUrl
    fallback = wrap('CACHE_FALLBACK_URL', () => sqlStore({ url }))
  }
  const options: CacheOptions = {
    ...(l1 ? { tiers: [memoryStore({ maxEntries }), primary] as const } : { store: primary }),
    ...(fallback ? { fallback } : {}),
    ...(prefix === undefined ? {} : { prefix }),
    ...(ttl === undefined ? {} : { ttl }),
    ...(l1Ttl === undefined ? {} : { l1Ttl }),
    ...(version === undefined ? {} : { version }),
    ...(compression === undefined || compression === 'none'
      ? {}
      : { codec: { compression: { algorithm: compression } } }),
    ...overrides,
  }
  const cache = createCache(options)
  return { cache, description: { store: kind, l1, fallback: fallback !== undefined, prefix, ttlMs: ttl } }
}

/** Runs a store factory, naming the variable in its error (its message is already redacted). */
function wrap<T>(variable: string, make: () => T): T {
  try {
    return make()
  } catch (error) {
    if (error instanceof CacheError) {
      throw new InvalidOptionError(`${variable}: ${redactSecrets(error.message)}`, { cause: error })
    }
    throw error
  }
}

function reader(env: Env) {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const bad = (name: string, value: string, takes: string) =>
    new InvalidOptionError(`${name}=${JSON.stringify(redactSecrets(value))} is not valid: it takes ${takes}`)
  return {
    text: raw,
    flag(name: string): boolean {
      const value = raw(name)
      if (value === undefined) return false
      if (/^(1|true|yes|on)$/i.test(value)) return true
      if (/^(0|false|no|off)$/i.test(value)) return false
      throw bad(name, value, 'true or false')
    },
    integer(name: string, min: number, max: number): number | undefined {
      const value = raw(name)
      if (value === undefined) return undefined
      const n = Number(value)
      if (!/^\d+$/.test(value) || n < min || n > max)
        throw bad(name, value, `a whole number from ${min} to ${max}`)
      return n
    },
    ttl(name: string): number | null | undefined {
      const value = raw(name)
      if (value === undefined) return undefined
      if (/^(none|never|null)$/i.test(value)) return null
      const ms = durationToMs(/^\d+$/.test(value) ? Number(value) : value)
      if (ms === undefined || ms > MAX_TTL_MS) {
        throw bad(name, value, "a duration ('5m', '1h', '250ms', or milliseconds) up to 100 years, or none")
      }
      return ms
    },
    timeout(name: string): number | undefined {
      const value = raw(name)
      if (value === undefined) return undefined
      const ms = durationToMs(/^\d+$/.test(value) ? Number(value) : value)
      if (ms === undefined || ms < 1 || ms > MAX_TIMEOUT_MS || !Number.isInteger(ms)) {
        throw bad(name, value, "a duration from '1ms' to 2147483647 ms ('100ms', '2s')")
      }
      return ms
    },
    oneOf<const T extends string>(name: string, allowed: readonly T[]): T | undefined {
      const value = raw(name)?.toLowerCase()
      if (value === undefined) return undefined
      if (!(allowed as readonly string[]).includes(value)) throw bad(name, value, allowed.join(', '))
      return value as T
    },
  }
}
