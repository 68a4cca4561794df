/**
 * The app's SQL layer: plain SQL with `?` placeholders, one small driver per database, and a
 * query counter (the load test reports database queries per request from it). No ORM: every query
 * the cache saves is visible in app/services/.
 */
export type Dialect = 'sqlite' | 'postgres' | 'mysql'
export type Row = Record<string, unknown>
export type Param = string | number | bigint | null

/** What every query helper needs: SQLite, PostgreSQL and MariaDB/MySQL answer the same calls. */
export interface Queryable {
  readonly dialect: Dialect
  /** Rows of a SELECT. */
  all<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T[]>
  /** The first row of a SELECT, or undefined. */
  get<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined>
  /** An INSERT/UPDATE/DELETE: how many rows it changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>
  /** An INSERT into a table with an `id` key: the new id. */
  insert(sql: string, params?: readonly Param[]): Promise<number>
}

/** A connection pool (or SQLite file) with transactions and a query counter. */
export interface Db extends Queryable {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Several statements of DDL, run as they are (migrations). */
  exec(sql: string): Promise<void>
  /** Queries run since the start (every call of all/get/run/insert, in or out of transactions). */
  readonly queries: number
  /** Of {@link queries}, those run inside transactions (the writes): the rest are the reads a cache can save. */
  readonly txQueries: number
  /** A short description for the startup line (no password). */
  readonly description: string
  close(): Promise<void>
}

/** `?` placeholders → `$1, $2, …` for PostgreSQL (the app never writes `?` inside a string literal). */
export function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

/** Opens the database the environment names: `DATABASE_URL` (postgres://, mysql://) or a SQLite file. */
export async function openDb(options: {
  url?: string | undefined
  file: string
  schema?: string | undefined
}): Promise<Db> {
  const url = options.url
  if (url === undefined || url === '' || url.startsWith('sqlite:')) {
    const { openSqlite } = await import('./sqlite.js')
    return openSqlite(url?.startsWith('sqlite:') ? url.slice('sqlite:'.length) : options.file)
  }
  if (/^postgres(ql)?:/i.test(url)) {
    const { openPostgres } = await import('./postgres.js')
    return openPostgres(url, options.schema)
  }
  if (/^(mysql|mariadb):/i.test(url)) {
    const { openMysql } = await import('./mysql.js')
    return openMysql(url.replace(/^mariadb:/i, 'mysql:'))
  }
  throw new Error('DATABASE_URL must start with postgres://, mysql://, mariadb:// or sqlite:')
}
