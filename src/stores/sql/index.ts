/**
 * `cachekit/sql`: cache stores in PostgreSQL (`pg`), SQLite (`better-sqlite3`) and MySQL/MariaDB
 * (`mysql2`). Install the client library of your database; the others are never loaded.
 *
 * ```ts
 * import { createCache } from 'cachekit'
 * import { sqlStore } from 'cachekit/sql'
 *
 * const cache = createCache({ store: sqlStore({ url: process.env.DATABASE_URL }), prefix: 'app' })
 * ```
 */

import type { SqlStoreOptions } from './options.js'
import { SqlStore } from './store.js'

export type { SqlDialectName } from './dialect.js'
export { MAX_KEY_BYTES, MAX_TAG_BYTES } from './dialect.js'
export type { MysqlPoolLike, PgPoolLike, SqliteDatabaseLike } from './drivers/index.js'
export type {
  MysqlStoreOptions,
  PostgresStoreOptions,
  SqlCommonOptions,
  SqliteStoreOptions,
  SqlStoreOptions,
  SqlUrlOptions,
} from './options.js'
export { SqlStore, type SqlStoreStats } from './store.js'

/**
 * Creates a store in a SQL table. Name the database with `dialect` and reach it with exactly one
 * of `client` (yours, left open on close), `url` or connection options; a `url` alone names the
 * dialect by its scheme.
 *
 * ```ts
 * sqlStore({ dialect: 'sqlite', filename: 'cache.db' })
 * sqlStore({ dialect: 'postgres', client: pool, maxEntries: 100_000 })
 * sqlStore({ url: 'mysql://app:secret@db/app', table: 'app_cache' })
 * ```
 *
 * The tables are created on first use unless `autoMigrate: false`; then run `store.migrate()`.
 * Bad options throw `InvalidOptionError` here; a missing client library is reported, the
 * same way, by the first call.
 */
export function sqlStore(options: SqlStoreOptions): SqlStore {
  return new SqlStore(options)
}
