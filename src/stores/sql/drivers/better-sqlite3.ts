import type { SqlDriver, SqlResult, Statement } from '../driver.js'
import { interop, loadPackage } from '../load.js'

/** A prepared statement of `better-sqlite3`, as the store uses it. */
export interface SqliteStatementLike {
  readonly reader: boolean
  all(...params: unknown[]): unknown[]
  run(...params: unknown[]): { changes: number }
}

/** The parts of a `better-sqlite3` `Database` the store uses. */
export interface SqliteDatabaseLike {
  readonly memory: boolean
  prepare(sql: string): SqliteStatementLike
  transaction(fn: () => void): { immediate(): void }
  pragma(source: string): unknown
  close(): unknown
}

export interface SqliteConnect {
  readonly filename: string
  readonly busyTimeout: number
}

/** Opens a database file for the store (loading `better-sqlite3` now); the store closes it. */
export async function openSqlite(options: SqliteConnect): Promise<SqliteDatabaseLike> {
  const Database = interop(await loadPackage('better-sqlite3', 'sqlite', () => import('better-sqlite3')))
  let db: InstanceType<typeof Database>
  try {
    db = new Database(options.filename, { timeout: options.busyTimeout })
  } catch (error) {
    // better-sqlite3 reports a missing directory as a TypeError without a code.
    const reason = error instanceof Error ? error.message : String(error)
    throw Object.assign(new Error(`cannot open ${options.filename}: ${reason}`, { cause: error }), {
      code: (error as { code?: unknown }).code ?? 'SQLITE_CANTOPEN',
    })
  }
  // WAL lets readers run while one process writes; it is a property of the file, kept once set.
  if (!db.memory) db.pragma('journal_mode = WAL')
  return db as unknown as SqliteDatabaseLike
}

/** Prepared statements kept per SQL text; batch statements vary in length, so the map is bounded. */
const MAX_PREPARED = 200

/**
 * A {@link SqlDriver} over a `better-sqlite3` database. Calls are synchronous underneath, so they
 * need no deadline, and a transaction cannot interleave with other calls of this process.
 */
export function sqliteDriver(db: SqliteDatabaseLike, owned: boolean): SqlDriver {
  const prepared = new Map<string, SqliteStatementLike>()
  function run(statement: Statement): SqlResult {
    let stmt = prepared.get(statement.sql)
    if (stmt === undefined) {
      if (prepared.size >= MAX_PREPARED) prepared.clear()
      stmt = db.prepare(statement.sql)
      prepared.set(statement.sql, stmt)
    }
    // better-sqlite3 binds every number as REAL; whole numbers go in as INTEGER.
    const params = statement.params.map((p) => (typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : p))
    if (stmt.reader) return { rows: stmt.all(...params) as SqlResult['rows'], affected: 0 }
    return { rows: [], affected: stmt.run(...params).changes }
  }
  return {
    remote: false,
    memory: db.memory,
    query: async (statement) => run(statement),
    async transaction(statements, verify) {
      let results: SqlResult[] = []
      db.transaction(() => {
        results = statements.map(run)
        verify?.(results)
      }).immediate()
      return results
    },
    close: async () => {
      prepared.clear()
      if (owned) db.close()
    },
  }
}
