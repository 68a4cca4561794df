import { createHash } from 'node:crypto'
import { RETHROW } from '../../internal/index.js'
import type { StateAccess, StateUpdate, StateUpdateOptions } from '../backing.js'
import { MAX_KEY_BYTES, marks, type Plan, type SqlDialectName } from './dialect.js'
import type { SqlResult, Statement } from './driver.js'
import type { Session } from './session.js'
import { fitsUtf8, keyOf, numberOf } from './values.js'

/** One in so many updates also deletes a chunk of expired rows, in the background. */
const PRUNE_EVERY = 500
const PRUNE_CHUNK = 1000

/** The database's clock in epoch ms, read when the statement runs (not when its transaction began). */
const NOW: Readonly<Record<SqlDialectName, string>> = {
  postgres: `floor(extract(epoch from clock_timestamp()) * 1000)::bigint`,
  mysql: 'FLOOR(UNIX_TIMESTAMP(SYSDATE(3)) * 1000)',
  sqlite: `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`,
}

/** The SQL of the state table in one database. */
interface StateSql {
  migrate(unlogged: boolean): Plan
  /** Creates the missing rows (expired) and locks all, in key order; PostgreSQL also reads them. */
  lock?(keys: readonly string[]): Statement
  /** `state_key`, `state`, `expires_at` of the keys, and `now` on the first row at least. */
  read?(keys: readonly string[]): Statement
  write(rows: readonly (readonly [string, string | null, number | null])[]): Statement
  prune(limit: number): Statement
}

function postgresSql(table: string): StateSql {
  const t = `"${table}"`
  return {
    migrate: (unlogged) => ({
      transaction: true,
      statements: [
        { sql: `SELECT pg_advisory_xact_lock(hashtext($1))`, params: [`cachekit:${table}`] },
        {
          sql: `CREATE ${unlogged ? 'UNLOGGED ' : ''}TABLE IF NOT EXISTS ${t} (
  state_key text COLLATE "C" NOT NULL PRIMARY KEY,
  state text,
  expires_at bigint
)`,
          params: [],
        },
        { sql: `CREATE INDEX IF NOT EXISTS "${table}_exp" ON ${t} (expires_at)`, params: [] },
      ],
    }),
    // ON CONFLICT DO UPDATE locks the existing rows, RETURNING reads them: one statement.
    lock: (keys) => ({
      sql: `INSERT INTO ${t} AS r (state_key, expires_at)
SELECT k, ${NOW.postgres} FROM unnest($1::text[]) AS k ORDER BY k COLLATE "C"
ON CONFLICT (state_key) DO UPDATE SET expires_at = r.expires_at
RETURNING r.state_key, r.state, r.expires_at, ${NOW.postgres} AS now`,
      params: [keys],
    }),
    write: (rows) => ({
      sql: `UPDATE ${t} AS r SET state = w.s, expires_at = w.e
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS w(k, s, e) WHERE r.state_key = w.k`,
      params: [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    }),
    // The expiry is checked again on the row it deletes: a row rewritten meanwhile stays.
    prune: (limit) => ({
      sql: `DELETE FROM ${t} WHERE expires_at <= ${NOW.postgres} AND state_key IN (
  SELECT state_key FROM ${t} WHERE expires_at <= ${NOW.postgres} LIMIT $1)`,
      params: [limit],
    }),
  }
}

function mysqlSql(table: string): StateSql {
  const t = `\`${table}\``
  return {
    migrate: () => ({
      transaction: false,
      statements: [
        {
          sql: `CREATE TABLE IF NOT EXISTS ${t} (
  state_key VARBINARY(${MAX_KEY_BYTES}) NOT NULL PRIMARY KEY,
  state VARBINARY(4096) NULL,
  expires_at BIGINT NULL,
  INDEX \`${table}_exp\` (expires_at)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`,
          params: [],
        },
      ],
    }),
    // ON DUPLICATE KEY UPDATE takes an exclusive lock on an existing row (INSERT IGNORE would
    // take a shared one, and two requests upgrading theirs would deadlock).
    lock: (keys) => ({
      sql: `INSERT INTO ${t} (state_key, expires_at) VALUES ${keys.map(() => `(?, ${NOW.mysql})`).join(', ')}
ON DUPLICATE KEY UPDATE state_key = state_key`,
      params: keys,
    }),
    read: (keys) => ({
      sql: `SELECT state_key, state, expires_at, ${NOW.mysql} AS now FROM ${t}
WHERE state_key IN (${marks(keys.length)}) FOR UPDATE`,
      params: keys,
    }),
    write: (rows) => ({
      sql: `INSERT INTO ${t} (state_key, state, expires_at) VALUES ${marksFor(rows.length)}
ON DUPLICATE KEY UPDATE state = VALUES(state), expires_at = VALUES(expires_at)`,
      params: rows.flat(),
    }),
    prune: (limit) => ({
      sql: `DELETE FROM ${t} WHERE expires_at <= ${NOW.mysql} LIMIT ?`,
      params: [limit],
    }),
  }
}

function sqliteSql(table: string): StateSql {
  const t = `"${table}"`
  return {
    migrate: () => ({
      transaction: true,
      statements: [
        {
          sql: `CREATE TABLE IF NOT EXISTS ${t} (
  state_key TEXT NOT NULL PRIMARY KEY,
  state TEXT,
  expires_at INTEGER
)`,
          params: [],
        },
        { sql: `CREATE INDEX IF NOT EXISTS "${table}_exp" ON ${t} (expires_at)`, params: [] },
      ],
    }),
    // BEGIN IMMEDIATE already holds the database's write lock: no row locks to take.
    read: (keys) => ({
      sql: `SELECT NULL AS state_key, NULL AS state, NULL AS expires_at, ${NOW.sqlite} AS now
UNION ALL SELECT state_key, state, expires_at, NULL FROM ${t} WHERE state_key IN (${marks(keys.length)})`,
      params: keys,
    }),
    write: (rows) => ({
      sql: `INSERT INTO ${t} (state_key, state, expires_at) VALUES ${marksFor(rows.length)}
ON CONFLICT (state_key) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at`,
      params: rows.flat(),
    }),
    prune: (limit) => ({
      sql: `DELETE FROM ${t} WHERE state_key IN (
  SELECT state_key FROM ${t} WHERE expires_at <= ${NOW.sqlite} LIMIT ?)`,
      params: [limit],
    }),
  }
}

const marksFor = (rows: number) => Array.from({ length: rows }, () => '(?, ?, ?)').join(', ')

const SQL: Readonly<Record<SqlDialectName, (table: string) => StateSql>> = {
  postgres: postgresSql,
  mysql: mysqlSql,
  sqlite: sqliteSql,
}

/** The state table's name: the store's table and `_rate` (at most 53 characters, under every limit). */
export const stateTableName = (table: string): string => `${table}_rate`

/** The state table's DDL (run by the store's migration, after the entries table's). */
export function stateMigration(dialect: SqlDialectName, table: string, unlogged: boolean): Plan {
  return SQL[dialect](stateTableName(table)).migrate(unlogged)
}

/** A key as a row key: itself when it fits the key column, else its SHA-256. */
function rowKey(key: string): string {
  if (fitsUtf8(key, MAX_KEY_BYTES) && !key.includes('\0')) return key
  return `sha256:${createHash('sha256').update(key).digest('hex')}`
}

/** A stored state: the value and the database time it was written at (`now` never goes back). */
interface Stored {
  readonly v: unknown
  readonly t: number
}

/** The store's {@link StateAccess}: one per store, made by the store. */
export class SqlStateTable implements StateAccess {
  roundTrips = 0
  readonly #sql: StateSql
  readonly #remote: boolean
  readonly #session: Session
  #updates = 0

  constructor(dialect: SqlDialectName, table: string, session: Session) {
    this.#sql = SQL[dialect](stateTableName(table))
    this.#remote = dialect !== 'sqlite'
    this.#session = session
  }

  async update<T>(
    op: string,
    keys: readonly string[],
    apply: (now: number, values: ReadonlyMap<string, unknown>) => StateUpdate<T>,
    options: StateUpdateOptions = {},
  ): Promise<T> {
    const byRow = new Map<string, string>()
    for (const key of keys) byRow.set(rowKey(key), key)
    const sorted = [...byRow.keys()].sort()
    const result = await this.#session.call(
      op,
      (driver) => driver.converse(() => this.#script(sorted, byRow, apply, options)),
      RETHROW,
    )
    if (++this.#updates % PRUNE_EVERY === 0) this.prune().catch(() => {})
    return result
  }

  /** Deletes a chunk of rows expired by the database's clock; resolves to how many. */
  async prune(): Promise<number> {
    const { affected } = await this.#session.call(
      'prune',
      (driver) => driver.query(this.#sql.prune(PRUNE_CHUNK)),
      RETHROW,
    )
    return affected
  }

  *#script<T>(
    sorted: readonly string[],
    byRow: ReadonlyMap<string, string>,
    apply: (now: number, values: ReadonlyMap<string, unknown>) => StateUpdate<T>,
    { clock, trips }: StateUpdateOptions,
  ): Generator<Statement, T, SqlResult> {
    const count = (statement: Statement): Statement => {
      if (!this.#remote) return statement
      this.roundTrips++
      if (trips) trips.count++
      return statement
    }
    count(count({ sql: 'BEGIN', params: [] })) // BEGIN and COMMIT, sent by the driver
    let read: SqlResult | undefined
    if (this.#sql.lock) read = yield count(this.#sql.lock(sorted))
    if (this.#sql.read) read = yield count(this.#sql.read(sorted))
    const rows = read?.rows ?? []
    let now = numberOf(rows.find((row) => numberOf(row['now']) !== null)?.['now']) ?? Date.now()
    const found: [string, Stored, number | null][] = []
    for (const row of rows) {
      const state = row['state']
      if (state === null || state === undefined || row['state_key'] === null) continue
      const stored = parse(keyOf(state))
      if (stored === undefined) continue
      found.push([keyOf(row['state_key']), stored, numberOf(row['expires_at'])])
      if (clock === undefined) now = Math.max(now, stored.t)
    }
    if (clock !== undefined) now = Math.floor(clock.now())
    const values = new Map<string, unknown>()
    for (const [row, stored, expiresAt] of found) {
      const key = byRow.get(row)
      if (key !== undefined && (expiresAt === null || expiresAt > now)) values.set(key, stored.v)
    }
    const { result, writes } = apply(now, values)
    const changed: [string, string | null, number | null][] = []
    for (const [key, write] of writes) {
      const row = rowKey(key)
      if (!byRow.has(row)) throw new Error(`state key written without being locked: ${key}`)
      changed.push(
        write === null
          ? [row, null, now]
          : [row, JSON.stringify({ v: write.value, t: now }), write.expiresAt],
      )
    }
    if (changed.length > 0) yield count(this.#sql.write(changed))
    return result
  }
}

function parse(text: string): Stored | undefined {
  try {
    const stored = JSON.parse(text) as Partial<Stored> | null
    return stored !== null && typeof stored === 'object' && typeof stored.t === 'number'
      ? { v: stored.v, t: stored.t }
      : undefined
  } catch {
    return undefined
  }
}
