import { InvalidOptionError } from '../../errors.js'
import {
  type Clock,
  type Duration,
  describe,
  durationToMs,
  MAX_TIMEOUT_MS,
  maxValueBytesOption,
  systemClock,
} from '../../internal/index.js'
import type { SqlDialectName } from './dialect.js'
import type { MysqlPoolLike, PgPoolLike, SqliteDatabaseLike } from './drivers/index.js'
import { dialectOfUrl, passwordsOfUrl, sqlitePathOfUrl } from './url.js'

/** Options every dialect takes. */
export interface SqlCommonOptions {
  /** The entries table; tags go in `<table>_tags`. Letters, digits and `_`. Default `'cachekit_cache'`. */
  readonly table?: string
  /**
   * The most rows kept (Django's `MAX_ENTRIES`). Past it, expired rows are deleted, then
   * 1/`cullFrequency` of the rest, those closest to expiry first. Checked every 1% of
   * `maxEntries` writes. Default: unbounded.
   */
  readonly maxEntries?: number
  /** The fraction culled past `maxEntries` is 1/`cullFrequency`; `0` empties the table. Default 3. */
  readonly cullFrequency?: number
  /** How often expired rows are deleted in the background, or `false` for never. Default `'5m'`. */
  readonly pruneInterval?: Duration | false
  /**
   * Create the tables on first use (default `true`). Set `false` where the application's database
   * user may not run DDL, and run `store.migrate()` (or the CLI's `migrate`) at deploy time.
   */
  readonly autoMigrate?: boolean
  /**
   * The longest a call may wait for a PostgreSQL or MySQL server (`'1s'`, or milliseconds) before
   * it fails with `E_STORE_UNAVAILABLE` (the statement may still complete on the server).
   * Default `'1s'`.
   */
  readonly timeout?: Duration
  /** `'throw'` (default): failures reject. `'ignore'`: an unreachable database reads as misses and writes as no-ops. */
  readonly onError?: 'throw' | 'ignore'
  /** Keys per statement for batches, key listing and pattern deletes. Default 500 (at most 1000). */
  readonly batchSize?: number
  /** The largest entry written, in bytes as stored; larger ones are refused with `E_VALUE_TOO_LARGE`. Default 16 MiB. */
  readonly maxValueBytes?: number
  /** The time source for expiry, for tests. Default `Date.now`. */
  readonly clock?: Clock
}

/** Exactly one way to reach the database: a client you created, a URL, or connection options. */
type Source<Client, Connection> =
  | { readonly client: Client; readonly url?: never; readonly connection?: never }
  | { readonly url: string; readonly client?: never; readonly connection?: never }
  | { readonly connection: Connection; readonly client?: never; readonly url?: never }

interface NetworkOptions {
  /** Connections in the pool the store opens (not used with `client`). Default 10. */
  readonly poolSize?: number
  /** How long opening one connection may take (not used with `client`). Default `'2s'`. */
  readonly connectTimeout?: Duration
}

/**
 * PostgreSQL through `pg`. `client` is a `pg.Pool` the store uses and does not close; `url` is a
 * `postgres://` URL; `connection` is a `pg` `PoolConfig`.
 */
export type PostgresStoreOptions = SqlCommonOptions &
  NetworkOptions & {
    readonly dialect: 'postgres'
    /** `CREATE UNLOGGED TABLE`: much faster writes, emptied after a server crash. Default `false`. */
    readonly unlogged?: boolean
  } & Source<PgPoolLike, Readonly<Record<string, unknown>>>

/**
 * MySQL or MariaDB through `mysql2`. `client` is a `mysql2` pool (callback or promise) the store
 * uses and does not close; `url` is a `mysql://` URL; `connection` is a `mysql2` `PoolOptions`.
 */
export type MysqlStoreOptions = SqlCommonOptions &
  NetworkOptions & { readonly dialect: 'mysql' } & Source<MysqlPoolLike, Readonly<Record<string, unknown>>>

/**
 * SQLite through `better-sqlite3`. `client` is a `Database` the store uses and does not close;
 * `filename` is a file path or `':memory:'` (one process only); `url` is `sqlite:<path>`.
 */
export type SqliteStoreOptions = SqlCommonOptions & {
  readonly dialect: 'sqlite'
  /**
   * How long to wait for another process's write lock. Default `'5s'`, and never longer than
   * `timeout`: the wait runs on timers (SQLite's own busy wait, which would block the event loop,
   * is turned off), and a call that still finds the lock taken fails with `E_STORE_UNAVAILABLE`.
   */
  readonly busyTimeout?: Duration
} & (
    | { readonly client: SqliteDatabaseLike; readonly filename?: never; readonly url?: never }
    | { readonly filename: string; readonly client?: never; readonly url?: never }
    | { readonly url: string; readonly client?: never; readonly filename?: never }
  )

/** A URL alone names the dialect: `postgres://`, `postgresql://`, `mysql://`, `mariadb://`, `sqlite:`. */
export type SqlUrlOptions = SqlCommonOptions &
  NetworkOptions & { readonly url: string; readonly dialect?: undefined }

/** Options of `sqlStore`: a dialect with its client or URL, the table, timeouts and the error policy. */
export type SqlStoreOptions = PostgresStoreOptions | MysqlStoreOptions | SqliteStoreOptions | SqlUrlOptions

/** The options, checked, with defaults applied. */
export interface ResolvedSqlOptions {
  readonly dialect: SqlDialectName
  readonly table: string
  readonly maxEntries: number | undefined
  readonly cullFrequency: number
  readonly pruneInterval: number | undefined
  readonly autoMigrate: boolean
  readonly timeout: number
  readonly onError: 'throw' | 'ignore'
  readonly batchSize: number
  readonly maxValueBytes: number
  readonly clock: Clock
  readonly unlogged: boolean
  readonly client: object | undefined
  readonly url: string | undefined
  readonly connection: Readonly<Record<string, unknown>> | undefined
  /** SQLite file (from `filename` or `url`). */
  readonly filename: string | undefined
  readonly poolSize: number
  readonly connectTimeout: number
  readonly busyTimeout: number
  /** Passwords to scrub from every message. */
  readonly secrets: readonly string[]
}

/** Every field of every variant, for reading options whatever the variant. */
interface AnyOptions extends SqlCommonOptions, NetworkOptions {
  readonly dialect?: string
  readonly client?: unknown
  readonly url?: unknown
  readonly connection?: unknown
  readonly filename?: unknown
  readonly unlogged?: boolean
  readonly busyTimeout?: Duration
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/
const DIALECTS: readonly string[] = ['postgres', 'sqlite', 'mysql']

function whole(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(`sqlStore ${name} must be a whole number >= ${min}, got ${String(value)}`)
  }
  return value
}

/** A duration that becomes a timer: whole ms (a string rounds), below 2^31, which Node would turn into 1 ms. */
function timer(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const ms = typeof value === 'number' && !Number.isInteger(value) ? undefined : durationToMs(value)
  if (ms === undefined || ms < min || ms > MAX_TIMEOUT_MS) {
    throw new InvalidOptionError(
      `sqlStore ${name} must be a duration from ${min} ms to ${MAX_TIMEOUT_MS} ms (below 2^31: '1s', '500ms', or whole milliseconds), got ${describe(value)}`,
    )
  }
  return ms
}

export function resolveOptions(options: SqlStoreOptions): ResolvedSqlOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      "sqlStore needs options: sqlStore({ dialect: 'sqlite', filename: 'cache.db' }) or sqlStore({ url })",
    )
  }
  const o = options as AnyOptions
  const url = o.url
  if (url !== undefined && (typeof url !== 'string' || url === '')) {
    throw new InvalidOptionError('sqlStore url must be a non-empty string')
  }
  const dialect = o.dialect ?? (url === undefined ? undefined : dialectOfUrl(url))
  if (dialect === undefined || !DIALECTS.includes(dialect)) {
    throw new InvalidOptionError(
      `sqlStore dialect must be 'postgres', 'sqlite' or 'mysql', or given by the url's scheme (got ${String(dialect)})`,
    )
  }
  const sourceNames = dialect === 'sqlite' ? ['client', 'url', 'filename'] : ['client', 'url', 'connection']
  const sources = sourceNames.filter((name) => (o as Record<string, unknown>)[name] !== undefined)
  if (sources.length !== 1) {
    throw new InvalidOptionError(
      `sqlStore({ dialect: '${dialect}' }) needs exactly one of ${sourceNames.join(', ')}${sources.length ? ` (got ${sources.join(', ')})` : ''}`,
    )
  }
  if (o.client !== undefined) checkClient(dialect as SqlDialectName, o.client)
  if (o.connection !== undefined && (o.connection === null || typeof o.connection !== 'object')) {
    throw new InvalidOptionError('sqlStore connection must be an object of client options')
  }
  if (o.filename !== undefined && (typeof o.filename !== 'string' || o.filename === '')) {
    throw new InvalidOptionError("sqlStore filename must be a file path or ':memory:'")
  }
  const table = o.table ?? 'cachekit_cache'
  if (typeof table !== 'string' || !TABLE.test(table)) {
    throw new InvalidOptionError(
      `sqlStore table must start with a letter or _, then letters, digits or _, at most 48 in all (got ${String(table)})`,
    )
  }
  const maxEntries = o.maxEntries === undefined ? undefined : whole('maxEntries', o.maxEntries, 1)
  let pruneInterval: number | undefined
  if (o.pruneInterval !== false) {
    const ms = durationToMs(o.pruneInterval ?? '5m')
    if (ms === undefined || ms < 1000 || ms > MAX_TIMEOUT_MS) {
      throw new InvalidOptionError(
        `sqlStore pruneInterval must be a duration from 1s to 24 days ('5m', 60000) or false, got ${String(o.pruneInterval)}`,
      )
    }
    pruneInterval = ms
  }
  if (o.onError !== undefined && o.onError !== 'throw' && o.onError !== 'ignore') {
    throw new InvalidOptionError(`sqlStore onError must be 'throw' or 'ignore', got ${String(o.onError)}`)
  }
  if (o.clock !== undefined && typeof o.clock?.now !== 'function') {
    throw new InvalidOptionError('sqlStore clock must be an object with a now() method')
  }
  const connection = o.connection as Readonly<Record<string, unknown>> | undefined
  const secrets = [...(typeof url === 'string' ? passwordsOfUrl(url) : []), connection?.['password']].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  )
  return {
    dialect: dialect as SqlDialectName,
    table,
    maxEntries,
    cullFrequency: whole('cullFrequency', o.cullFrequency, 3, 0),
    pruneInterval,
    autoMigrate: o.autoMigrate ?? true,
    timeout: timer('timeout', o.timeout, 1000),
    onError: o.onError ?? 'throw',
    batchSize: Math.min(1000, whole('batchSize', o.batchSize, 500)),
    maxValueBytes: maxValueBytesOption('sqlStore', o.maxValueBytes),
    clock: o.clock ?? systemClock,
    unlogged: o.unlogged === true,
    client: o.client as object | undefined,
    url: dialect === 'sqlite' ? undefined : (url as string | undefined),
    connection,
    filename:
      dialect !== 'sqlite'
        ? undefined
        : typeof url === 'string'
          ? sqlitePathOfUrl(url)
          : (o.filename as string | undefined),
    poolSize: whole('poolSize', o.poolSize, 10),
    connectTimeout: timer('connectTimeout', o.connectTimeout, 2000),
    busyTimeout: timer('busyTimeout', o.busyTimeout, 5000, 0),
    secrets,
  }
}

const CLIENT_METHODS: Readonly<Record<SqlDialectName, readonly string[]>> = {
  postgres: ['query', 'connect'],
  sqlite: ['prepare', 'transaction'],
  mysql: ['query', 'getConnection'],
}

const CLIENT_NAMES: Readonly<Record<SqlDialectName, string>> = {
  postgres: 'a pg Pool',
  sqlite: 'a better-sqlite3 Database',
  mysql: 'a mysql2 pool',
}

function checkClient(dialect: SqlDialectName, client: unknown): void {
  const missing = CLIENT_METHODS[dialect].filter(
    (method) => typeof (client as Record<string, unknown> | null)?.[method] !== 'function',
  )
  // A pg Client has query and connect too, but runs one query at a time: transactions would mix.
  const pgClient =
    dialect === 'postgres' && typeof (client as { totalCount?: unknown }).totalCount !== 'number'
  if (client === null || typeof client !== 'object' || missing.length > 0 || pgClient) {
    throw new InvalidOptionError(
      `sqlStore({ dialect: '${dialect}' }) client must be ${CLIENT_NAMES[dialect]}${missing.length ? ` (missing ${missing.join(', ')})` : ''}`,
    )
  }
}
