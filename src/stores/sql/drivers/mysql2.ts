import type { PoolConnect, SqlDriver, SqlResult, Statement } from '../driver.js'
import { interop, loadPackage } from '../load.js'
import { converseOn, transactionVia } from './transaction.js'

interface PromiseConnection {
  query(sql: string, values: unknown[]): Promise<[unknown, unknown]>
  beginTransaction(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  release(): void
  destroy(): void
}

interface PromisePool {
  query(sql: string, values: unknown[]): Promise<[unknown, unknown]>
  getConnection(): Promise<PromiseConnection>
  end(): Promise<void>
}

/**
 * A `mysql2` pool: the callback pool of `mysql2.createPool()` or the promise pool of
 * `mysql2/promise`. The store uses `query` and `getConnection` (for transactions).
 */
export interface MysqlPoolLike {
  getConnection(...args: never[]): unknown
  query(...args: never[]): unknown
}

/** Opens a `mysql2` pool for the store (loading `mysql2` now); the store closes it. */
export async function openMysqlPool(options: PoolConnect): Promise<MysqlPoolLike> {
  const mysql = interop(await loadPackage('mysql2', 'mysql', () => import('mysql2/promise')))
  return mysql.createPool({
    connectionLimit: options.poolSize,
    connectTimeout: options.connectTimeout,
    ...(options.url === undefined ? {} : { uri: options.url }),
    ...options.connection,
  }) as unknown as MysqlPoolLike
}

/** The promise face of either kind of pool. */
function promisePool(client: MysqlPoolLike): PromisePool {
  const core = client as unknown as { promise?: () => PromisePool }
  return typeof core.promise === 'function' ? core.promise() : (client as unknown as PromisePool)
}

/**
 * Rows for a SELECT; for a write, the rows it changed or, for an UPDATE, matched. What
 * `affectedRows` counts for an UPDATE depends on the client's FOUND_ROWS flag; the server's info
 * text ("Rows matched: 1 Changed: 0") does not.
 */
function toResult(result: unknown): SqlResult {
  if (Array.isArray(result)) return { rows: result as SqlResult['rows'], affected: 0 }
  const header = result as { affectedRows?: number; info?: string }
  const matched = /Rows matched:\s*(\d+)/i.exec(header.info ?? '')
  return { rows: [], affected: matched ? Number(matched[1]) : (header.affectedRows ?? 0) }
}

const run = async (target: { query: PromisePool['query'] }, statement: Statement) =>
  toResult((await target.query(statement.sql, statement.params as unknown[]))[0])

/** A {@link SqlDriver} over a `mysql2` pool. */
export function mysqlDriver(client: MysqlPoolLike, owned: boolean): SqlDriver {
  const pool = promisePool(client)
  return {
    remote: true,
    memory: false,
    query: (statement) => run(pool, statement),
    transaction(statements, verify) {
      return transactionVia(this, statements, verify)
    },
    async converse(script) {
      const connection = await pool.getConnection()
      return converseOn(
        {
          begin: () => connection.beginTransaction(),
          run: (statement) => run(connection, statement),
          commit: () => connection.commit(),
          rollback: () => connection.rollback(),
          // A connection that could not roll back is in an unknown state: drop it from the pool.
          release: (broken) => (broken ? connection.destroy() : connection.release()),
        },
        script,
      )
    },
    close: async () => {
      if (owned) await pool.end()
    },
  }
}
