import type { SqlDriver, SqlResult, Statement } from '../driver.js'
import { interop, loadPackage } from '../load.js'
import { transactionVia } from './transaction.js'

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
  pragma(source: string, options?: { simple?: boolean }): unknown
  close(): unknown
}

export interface SqliteConnect {
  readonly filename: string
}

/** Opens a database file for the store (loading `better-sqlite3` now); the store closes it. */
export async function openSqlite(options: SqliteConnect): Promise<SqliteDatabaseLike> {
  const Database = interop(await loadPackage('better-sqlite3', 'sqlite', () => import('better-sqlite3')))
  let db: InstanceType<typeof Database>
  try {
    // No busy wait inside SQLite: it would block the event loop. The driver retries instead.
    db = new Database(options.filename, { timeout: 0 })
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

/** The longest pause between two tries for a lock another process holds. */
const BUSY_PAUSE_MAX = 25

/**
 * A {@link SqlDriver} over a `better-sqlite3` database. Calls are synchronous underneath, and a
 * transaction cannot interleave with other calls of this process. SQLite's own busy wait would
 * block the event loop for as long as another process holds the write lock, so each statement
 * runs with none (a caller's `client` has its `busy_timeout` set to 0 for the statement and
 * restored after, within the same tick) and a busy database is tried again after short pauses,
 * on timers, for at most `busyTimeout` ms.
 */
export function sqliteDriver(
  db: SqliteDatabaseLike,
  owned: boolean,
  options: { readonly busyTimeout: number },
): SqlDriver {
  const prepared = new Map<string, SqliteStatementLike>()
  const unbusy = <T>(work: () => T): T => {
    if (owned) return work()
    const saved = Number(db.pragma('busy_timeout', { simple: true }))
    if (saved === 0) return work()
    db.pragma('busy_timeout = 0')
    try {
      return work()
    } finally {
      db.pragma(`busy_timeout = ${Number.isSafeInteger(saved) ? saved : 0}`)
    }
  }
  const retry = async <T>(work: () => T): Promise<T> => {
    const until = Date.now() + options.busyTimeout
    for (let pause = 1; ; pause = Math.min(pause * 2, BUSY_PAUSE_MAX)) {
      try {
        return unbusy(work)
      } catch (error) {
        const left = until - Date.now()
        if (!isBusy(error) || left <= 0) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)))
      }
    }
  }
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
    query: (statement) => retry(() => run(statement)),
    transaction(statements, verify) {
      return transactionVia(this, statements, verify)
    },
    async converse<T>(script: () => Generator<Statement, T, SqlResult>): Promise<T> {
      let value: T | undefined
      await retry(() =>
        db
          .transaction(() => {
            const steps = script()
            let step = steps.next()
            while (!step.done) step = steps.next(run(step.value))
            value = step.value
          })
          .immediate(),
      )
      return value as T
    },
    close: async () => {
      prepared.clear()
      if (owned) db.close()
    },
  }
}

/** SQLite's answer while another connection holds the lock it needs. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}
