import type { PoolConnect, SqlDriver, SqlResult, Statement } from '../driver.js'
import { interop, loadPackage } from '../load.js'
import { converseOn, transactionVia } from './transaction.js'

interface PgQueryResult {
  readonly rows: unknown[]
  readonly rowCount: number | null
}

/** The parts of a `pg` pooled client the store uses. */
export interface PgPoolClientLike {
  query(config: { text: string; values?: unknown[] }): Promise<PgQueryResult>
  release(destroy?: boolean | Error): void
}

/** The parts of a `pg` `Pool` the store uses. Pass a `Pool`, not a single `Client`. */
export interface PgPoolLike {
  query(config: { text: string; values?: unknown[] }): Promise<PgQueryResult>
  connect(): Promise<PgPoolClientLike>
  end(): Promise<void>
}

/** Opens a `pg` pool for the store (loading `pg` now); the store closes it. */
export async function openPgPool(options: PoolConnect): Promise<PgPoolLike> {
  const pg = interop(await loadPackage('pg', 'postgres', () => import('pg')))
  const pool = new pg.Pool({
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeout,
    ...(options.url === undefined ? {} : { connectionString: options.url }),
    ...options.connection,
  })
  // An idle client losing its connection is reported here; without a listener it would crash
  // the process. The next query opens a new connection.
  pool.on('error', () => {})
  return pool as unknown as PgPoolLike
}

const toResult = (result: PgQueryResult): SqlResult => ({
  rows: result.rows as SqlResult['rows'],
  affected: result.rowCount ?? 0,
})

const toConfig = (statement: Statement) => ({ text: statement.sql, values: statement.params as unknown[] })

/** A {@link SqlDriver} over a `pg` pool. */
export function pgDriver(pool: PgPoolLike, owned: boolean): SqlDriver {
  return {
    remote: true,
    memory: false,
    query: async (statement) => toResult(await pool.query(toConfig(statement))),
    transaction(statements, verify) {
      return transactionVia(this, statements, verify)
    },
    async converse(script) {
      const client = await pool.connect()
      return converseOn(
        {
          begin: () => client.query({ text: 'BEGIN' }),
          run: async (statement) => toResult(await client.query(toConfig(statement))),
          commit: () => client.query({ text: 'COMMIT' }),
          rollback: () => client.query({ text: 'ROLLBACK' }),
          // A client that could not roll back is in an unknown state: destroy it, do not reuse it.
          release: (broken) => client.release(broken),
        },
        script,
      )
    },
    close: async () => {
      if (owned) await pool.end()
    },
  }
}
