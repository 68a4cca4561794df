import type { Cache } from '../cache/index.js'
import { describeAndCreate, type Env } from '../config/index.js'
import { durationToMs, MAX_TIMEOUT_MS, passwordOf, redactUrl, scrubber } from '../internal/index.js'
import type { RedisStore } from '../stores/redis/index.js'
import type { SqlStore } from '../stores/sql/index.js'
import { UsageError } from './output.js'

/** Options every command takes (see main.ts). */
export interface GlobalOptions {
  readonly url?: string
  readonly prefix?: string
  /** SQL: the cache table (default `cachekit_cache`). */
  readonly table?: string
  readonly timeout: string
  readonly json: boolean
  readonly progress: boolean
}

/** An open connection to the configured store, and the cache over it. */
export interface Connection {
  readonly kind: 'redis' | 'sql'
  /** The URL with its password replaced by `***`. */
  readonly safeUrl: string
  /** True when the URL asks for TLS (`rediss://`, `sslmode=require`...). */
  readonly tls: boolean
  readonly cache: Cache
  readonly redis: RedisStore | undefined
  readonly sql: SqlStore | undefined
  /** Removes the password from any text (error messages from drivers). */
  readonly scrub: (text: string) => string
  readonly timeoutMs: number
  close(): Promise<void>
}

const REDIS = /^(redis|rediss|valkey|valkeys)(\+sentinel|\+cluster)?:\/\//i
const SQL = /^(postgres|postgresql|mysql|mariadb|sqlite):/i
/** Variables of cacheFromEnv that make no sense for a one-shot command, or that the CLI sets. */
const IGNORED = [
  'CACHE_URL',
  'CACHE_L1',
  'CACHE_L1_TTL',
  'CACHE_FALLBACK_URL',
  'CACHE_ON_ERROR',
  'CACHE_TIMEOUT',
]

/**
 * The store URL: `--url`, else what `cacheFromEnv()` reads (`CACHE_URL`, then `REDIS_URL`,
 * `REDIS_LOCATION`, `REDIS_SENTINELS`, `VALKEY_HOST` through `redisOptionsFromEnv`).
 */
export async function resolveUrl(options: GlobalOptions, env: Env): Promise<string> {
  if (options.url !== undefined && options.url.trim() !== '') return options.url.trim()
  const cacheUrl = env['CACHE_URL']?.trim()
  if (cacheUrl && !/^memory:/i.test(cacheUrl)) return cacheUrl
  const { redisOptionsFromEnv } = await import('../stores/redis/index.js')
  const url = redisOptionsFromEnv(env)?.url
  if (url) return url
  throw new UsageError(
    'No store to connect to: pass --url (redis://, rediss://, redis+sentinel://, redis+cluster://, postgres://, mysql://, sqlite:<path>) or set CACHE_URL or REDIS_URL',
  )
}

/** Parses `--timeout`. */
export function timeoutOf(text: string): number {
  const ms = durationToMs(/^\d+$/.test(text) ? Number(text) : text)
  if (ms === undefined || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new UsageError(
      `--timeout ${JSON.stringify(text)} is not valid: it takes a duration such as 2s or 500ms`,
    )
  }
  return Math.round(ms)
}

/**
 * Opens the store of `--url` or the environment, and a cache over it with the environment's
 * prefix, version, TTL and compression (`CACHE_PREFIX`... as `cacheFromEnv()` reads them; `--prefix`
 * wins). SQL tables are never created here (`migrate` does that). Waits for Redis to be ready
 * within the timeout.
 */
export async function connect(options: GlobalOptions, env: Env = process.env): Promise<Connection> {
  const url = await resolveUrl(options, env)
  const timeoutMs = timeoutOf(options.timeout)
  const scrub = scrubber([passwordOf(url) ?? ''])
  let redis: RedisStore | undefined
  let sql: SqlStore | undefined
  if (REDIS.test(url)) {
    const { redisStore } = await import('../stores/redis/index.js')
    redis = redisStore({ url, timeout: timeoutMs, connectTimeout: timeoutMs, onError: 'throw' })
  } else if (SQL.test(url)) {
    const { sqlStore } = await import('../stores/sql/index.js')
    sql = sqlStore({
      url,
      autoMigrate: false,
      timeout: timeoutMs,
      pruneInterval: false,
      ...(options.table === undefined ? {} : { table: options.table }),
    })
  } else {
    throw new UsageError(
      `Cannot connect to ${redactUrl(url)}: use redis://, rediss://, redis+sentinel://, redis+cluster://, postgres://, mysql:// or sqlite:<path>`,
    )
  }
  const store = (redis ?? sql) as RedisStore | SqlStore
  const cacheEnv: Record<string, string | undefined> = { ...env, CACHE_URL: 'memory:' }
  for (const name of IGNORED.slice(1)) delete cacheEnv[name]
  if (options.prefix !== undefined) cacheEnv['CACHE_PREFIX'] = options.prefix
  let cache: Cache
  try {
    cache = (await describeAndCreate(cacheEnv, { store })).cache
    if (redis) await redis.ready()
  } catch (error) {
    await store.close().catch(() => {})
    throw error
  }
  return {
    kind: redis ? 'redis' : 'sql',
    safeUrl: redactUrl(url),
    tls:
      /^(rediss|valkeys)/i.test(url) || /[?&](ssl=true|sslmode=(require|verify-ca|verify-full))/i.test(url),
    cache,
    redis,
    sql,
    scrub,
    timeoutMs,
    async close() {
      await cache.close().catch(() => {})
      await store.close().catch(() => {})
    },
  }
}
