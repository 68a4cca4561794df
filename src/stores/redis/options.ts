import type { ConnectionOptions } from 'node:tls'
import { InvalidOptionError } from '../../errors.js'
import {
  type Duration,
  describe,
  durationToMs,
  MAX_TIMEOUT_MS,
  maxValueBytesOption,
} from '../../internal/index.js'
import type { BreakerOptions, ResolvedBreakerOptions } from './breaker.js'
import { parseRedisUrl, type RedisConnection, type RedisEndpoint } from './url.js'

/** One line for the application's log. Messages never contain a password. */
export interface RedisLogEvent {
  readonly level: 'warn' | 'info'
  readonly message: string
  readonly error?: unknown
}

interface Common {
  /**
   * The longest a call may wait for Redis (`'100ms'`, or milliseconds) before it fails with
   * `E_STORE_UNAVAILABLE`. Multi-step calls (`keys`, `deletePattern`) get it per round trip.
   * Default `'100ms'`.
   */
  readonly timeout?: Duration
  /** `'throw'` (default): failures reject. `'ignore'`: reads become misses and writes no-ops. */
  readonly onError?: 'throw' | 'ignore'
  /** Circuit breaker settings, or `false` to send every call to the server. */
  readonly breaker?: BreakerOptions | false
  /** Where connection trouble is reported, once per burst. Default: `console.warn` for warnings. */
  readonly onLog?: (event: RedisLogEvent) => void
  /** The largest entry written, in bytes as stored; larger ones are refused with `E_VALUE_TOO_LARGE`. Default 16 MiB. */
  readonly maxValueBytes?: number
  /** SCAN's COUNT hint for `keys`, `deletePattern` and `clear`. Default 1000. */
  readonly scanCount?: number
  /**
   * Pub/sub on Redis Cluster (Redis 7+): `'auto'` (default) uses sharded pub/sub (SSUBSCRIBE,
   * SPUBLISH: a message goes only to the shard owning its channel's slot, instead of being
   * broadcast to every node) when the client can (node-redis; ioredis with
   * `shardedSubscribers: true`), classic otherwise; `true` requires it (creating the store
   * throws `E_UNSUPPORTED` on a client that cannot); `false` keeps classic pub/sub, e.g. while
   * processes of an older version still publish on the same channels. Standalone and Sentinel
   * always use classic pub/sub.
   */
  readonly shardedPubSub?: boolean | 'auto'
}

interface Connect {
  /** TLS settings for `rediss://` (a CA for a self-signed certificate, client certificates...). */
  readonly tls?: ConnectionOptions
  /**
   * How long one connection attempt (TCP, TLS, AUTH/HELLO) may take. Calls made while the
   * store's first connection is being made wait for it up to this long, once; `ready()` waits at
   * most this long. Default `'2s'`.
   */
  readonly connectTimeout?: Duration
  /** The longest wait between reconnection attempts. Default `'1s'`. */
  readonly maxReconnectDelay?: Duration
  readonly username?: string
  readonly password?: string
}

/** Connect with a URL: `redis://`, `rediss://`, `redis+sentinel://`, `redis+cluster://`. */
export interface RedisUrlOptions extends Common, Connect {
  readonly url: string
  readonly client?: never
}

/** Connect to one server by host and port. */
export interface RedisHostOptions extends Common, Connect {
  readonly host: string
  readonly port?: number
  readonly database?: number
  readonly url?: never
  readonly client?: never
}

/** Connect to a Sentinel-managed master. */
export interface RedisSentinelOptions extends Common, Connect {
  readonly sentinel: {
    readonly name: string
    readonly nodes: readonly RedisEndpoint[]
    readonly database?: number
  }
  readonly url?: never
  readonly client?: never
}

/** Connect to a Redis Cluster through some of its nodes. */
export interface RedisClusterOptions extends Common, Connect {
  readonly cluster: { readonly nodes: readonly RedisEndpoint[] }
  readonly url?: never
  readonly client?: never
}

/**
 * Use a client you created: a node-redis client, cluster or sentinel, or an ioredis client or
 * cluster. The store does not close it. Create it with the offline queue disabled
 * (`disableOfflineQueue: true` / `enableOfflineQueue: false`) so calls fail fast while Redis is down.
 */
export interface RedisClientOptions extends Common {
  readonly client: object
  readonly url?: never
}

/** Options of `redisStore`: a URL or a client, plus timeouts, the error policy and the codec. */
export type RedisStoreOptions =
  | RedisUrlOptions
  | RedisHostOptions
  | RedisSentinelOptions
  | RedisClusterOptions
  | RedisClientOptions

/** Every field of every variant, for reading options whatever the variant. */
interface AnyOptions extends Common, Connect {
  readonly url?: string
  readonly host?: string
  readonly port?: number
  readonly database?: number
  readonly sentinel?: RedisSentinelOptions['sentinel']
  readonly cluster?: RedisClusterOptions['cluster']
  readonly client?: object
}

export interface ResolvedOptions {
  readonly timeout: number
  readonly onError: 'throw' | 'ignore'
  readonly breaker: ResolvedBreakerOptions | false
  readonly onLog: (event: RedisLogEvent) => void
  readonly maxValueBytes: number
  readonly scanCount: number
  readonly shardedPubSub: boolean | 'auto'
  readonly connectTimeout: number
  readonly maxReconnectDelay: number
  readonly tls: ConnectionOptions | undefined
  /** Where to connect, or undefined when a client was given. */
  readonly connection: RedisConnection | undefined
  readonly client: object | undefined
  /** Secrets to scrub from anything logged or thrown. */
  readonly secrets: readonly string[]
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(`redisStore ${name} must be a whole number > 0, got ${String(value)}`)
  }
  return value
}

/** A duration that feeds a timer: whole milliseconds (a string rounds), > 0 and below 2^31 ms. */
function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  const ms = typeof value === 'number' && !Number.isInteger(value) ? undefined : durationToMs(value)
  if (ms === undefined || ms <= 0 || ms > MAX_TIMEOUT_MS) {
    throw new InvalidOptionError(
      `redisStore ${name} must be a duration > 0 and at most ${MAX_TIMEOUT_MS} ms ('100ms', '2s', or whole milliseconds), got ${describe(value)}`,
    )
  }
  return ms
}

const defaultLog = (event: RedisLogEvent): void => {
  if (event.level === 'warn') console.warn(`[cachekit/redis] ${event.message}`)
}

export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError("redisStore needs options: redisStore({ url: 'redis://localhost:6379' })")
  }
  const o = options as AnyOptions
  if (o.onError !== undefined && o.onError !== 'throw' && o.onError !== 'ignore') {
    throw new InvalidOptionError(`redisStore onError must be 'throw' or 'ignore', got ${String(o.onError)}`)
  }
  if (o.onLog !== undefined && typeof o.onLog !== 'function') {
    throw new InvalidOptionError('redisStore onLog must be a function (event) => void')
  }
  if (o.shardedPubSub !== undefined && typeof o.shardedPubSub !== 'boolean' && o.shardedPubSub !== 'auto') {
    throw new InvalidOptionError(
      `redisStore shardedPubSub must be true, false or 'auto', got ${describe(o.shardedPubSub)}`,
    )
  }
  const given = o.breaker ?? {}
  if (given !== false && given.coolDown !== undefined && given.coolDownMs !== undefined) {
    throw new InvalidOptionError('redisStore breaker takes coolDown or its old name coolDownMs, not both')
  }
  const breaker: ResolvedBreakerOptions | false =
    given === false
      ? false
      : {
          threshold: positive('breaker.threshold', given.threshold, 5),
          coolDownMs:
            given.coolDownMs === undefined
              ? duration('breaker.coolDown', given.coolDown, 1000)
              : duration('breaker.coolDownMs', given.coolDownMs, 1000),
        }
  let connection: RedisConnection | undefined
  const sources = ['url', 'host', 'sentinel', 'cluster', 'client'].filter(
    (name) => (o as Record<string, unknown>)[name] !== undefined,
  )
  if (sources.length !== 1) {
    throw new InvalidOptionError(
      `redisStore needs exactly one of url, host, sentinel, cluster or client${sources.length ? ` (got ${sources.join(', ')})` : ''}`,
    )
  }
  if (o.client !== undefined && (o.client === null || typeof o.client !== 'object')) {
    throw new InvalidOptionError('redisStore client must be a node-redis or ioredis client object')
  }
  const auth = {
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.password === undefined ? {} : { password: o.password }),
  }
  if (o.url !== undefined) {
    const parsed = parseRedisUrl(o.url)
    connection = { ...parsed, ...auth } as RedisConnection
  } else if (o.host !== undefined) {
    connection = {
      topology: 'standalone',
      host: o.host,
      port: positive('port', o.port, 6379),
      database: o.database ?? 0,
      tls: o.tls !== undefined,
      ...auth,
    }
  } else if (o.sentinel !== undefined) {
    connection = {
      topology: 'sentinel',
      sentinels: o.sentinel.nodes,
      masterName: o.sentinel.name,
      database: o.sentinel.database ?? 0,
      tls: o.tls !== undefined,
      ...auth,
    }
  } else if (o.cluster !== undefined) {
    connection = { topology: 'cluster', nodes: o.cluster.nodes, tls: o.tls !== undefined, ...auth }
  }
  const secrets = [connection?.password].filter((s): s is string => typeof s === 'string' && s.length > 0)
  return {
    timeout: duration('timeout', o.timeout, 100),
    onError: o.onError ?? 'throw',
    breaker,
    onLog: o.onLog ?? defaultLog,
    maxValueBytes: maxValueBytesOption('redisStore', o.maxValueBytes),
    scanCount: positive('scanCount', o.scanCount, 1000),
    shardedPubSub: o.shardedPubSub ?? 'auto',
    connectTimeout: duration('connectTimeout', o.connectTimeout, 2000),
    maxReconnectDelay: duration('maxReconnectDelay', o.maxReconnectDelay, 1000),
    tls: o.tls,
    connection,
    client: o.client,
    secrets,
  }
}

/**
 * Where the store stands. `connecting`: the first connection is being made (calls wait for it,
 * once, up to `connectTimeout`). `ready`: connected, circuit closed. `degraded`: the first attempt
 * failed or timed out, the connection is lost, or the circuit is open; calls fail fast (or resolve
 * to their fallback under `onError: 'ignore'`) while the client reconnects in the background.
 * `closing`: `close()` runs; no new call is accepted, accepted ones finish. `closed`: done.
 */
export type RedisStoreState = 'connecting' | 'ready' | 'degraded' | 'closing' | 'closed'
