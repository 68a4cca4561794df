/**
 * The three databases behind one interface, so a behaviour test is written once and runs on each:
 * how to make a store, how to run raw SQL against its table, and how to clean up.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import {
  type MysqlPoolLike,
  type PgPoolLike,
  type SqlCommonOptions,
  type SqlStore,
  sqlStore,
} from '../../src/stores/sql/index.js'
import { dropMysql, dropPostgres, mysqlUrl, postgresUrl, tempDir } from './sql-servers.js'

export interface Target {
  readonly name: 'postgres' | 'mysql' | 'sqlite'
  /** A new store on the target's shared connection (or file), with its own client where it matters. */
  store(options?: SqlCommonOptions & { separateClient?: boolean }): SqlStore
  /** Runs raw SQL, `?` placeholders in every dialect; resolves to the rows. */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  /** Double-quoted identifiers in the SQL given to {@link Target.raw} are quoted for the dialect. */
  quote(identifier: string): string
  drop(table: string): Promise<void>
  close(): Promise<void>
}

export async function targets(): Promise<Target[]> {
  const out: Target[] = [sqliteTarget()]
  const pgUrl = await postgresUrl()
  if (pgUrl) out.push(postgresTarget(pgUrl))
  const myUrl = await mysqlUrl()
  if (myUrl) out.push(mysqlTarget(myUrl))
  return out
}

function sqliteTarget(): Target {
  const temp = tempDir()
  const file = join(temp.dir, 'behaviour.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  return {
    name: 'sqlite',
    store: ({ separateClient, ...options } = {}) =>
      separateClient
        ? sqlStore({ dialect: 'sqlite', filename: file, ...options })
        : sqlStore({ dialect: 'sqlite', client: db, ...options }),
    raw: async (sql, params = []) => {
      const stmt = db.prepare(sql)
      const bound = params.map((p) => (typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : p))
      if (stmt.reader) return stmt.all(...bound) as Record<string, unknown>[]
      stmt.run(...bound)
      return []
    },
    quote: (identifier) => `"${identifier}"`,
    drop: async (table) => {
      db.exec(
        `DROP TABLE IF EXISTS "${table}"; DROP TABLE IF EXISTS "${table}_tags"; DROP TABLE IF EXISTS "${table}_rate"`,
      )
    },
    close: async () => {
      db.close()
      temp.remove()
    },
  }
}

/** Stores on the target's shared pool, or with `separateClient` on connections of their own. */
function storeOn(
  url: string,
  shared: { dialect: 'postgres'; client: PgPoolLike } | { dialect: 'mysql'; client: MysqlPoolLike },
): Target['store'] {
  return ({ separateClient, ...options } = {}) =>
    separateClient
      ? sqlStore({ dialect: shared.dialect, url, poolSize: 4, ...options })
      : sqlStore({ ...shared, ...options })
}

function postgresTarget(url: string): Target {
  const pool = new pg.Pool({ connectionString: url, max: 6 })
  return {
    name: 'postgres',
    store: storeOn(url, { dialect: 'postgres', client: pool }),
    raw: async (sql, params = []) => {
      let n = 0
      const text = sql.replace(/\?/g, () => `$${++n}`)
      return (await pool.query(text, params)).rows
    },
    quote: (identifier) => `"${identifier}"`,
    drop: (table) => dropPostgres(pool, table),
    close: () => pool.end(),
  }
}

function mysqlTarget(url: string): Target {
  const pool = mysql.createPool({ uri: url, connectionLimit: 6 })
  return {
    name: 'mysql',
    store: storeOn(url, { dialect: 'mysql', client: pool }),
    raw: async (sql, params = []) => {
      const [rows] = await pool.query(sql.replace(/"/g, '`'), params)
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []
    },
    quote: (identifier) => `\`${identifier}\``,
    drop: (table) => dropMysql(pool, table),
    close: () => pool.end(),
  }
}
