import type { SqlDriver } from '../driver.js'
import type { ResolvedSqlOptions } from '../options.js'
import { openSqlite, type SqliteDatabaseLike, sqliteDriver } from './better-sqlite3.js'
import { type MysqlPoolLike, mysqlDriver, openMysqlPool } from './mysql2.js'
import { openPgPool, type PgPoolLike, pgDriver } from './pg.js'

/**
 * The driver for the options: over the caller's client (left open on close), or over a client the
 * store opens now, loading its library on this first use.
 */
export async function openDriver(options: ResolvedSqlOptions): Promise<SqlDriver> {
  const client = options.client
  switch (options.dialect) {
    case 'postgres':
      return client ? pgDriver(client as PgPoolLike, false) : pgDriver(await openPgPool(options), true)
    case 'mysql':
      return client
        ? mysqlDriver(client as MysqlPoolLike, false)
        : mysqlDriver(await openMysqlPool(options), true)
    case 'sqlite': {
      // Another process's write lock is waited for off the event loop, and never past the deadline.
      const busy = { busyTimeout: Math.min(options.busyTimeout, options.timeout) }
      return client
        ? sqliteDriver(client as SqliteDatabaseLike, false, busy)
        : sqliteDriver(await openSqlite({ filename: options.filename as string }), true, busy)
    }
  }
}
