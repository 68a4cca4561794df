/**
 * What the engine needs from a database client, whichever library is behind it. One adapter per
 * client library (`pg`, `better-sqlite3`, `mysql2`) implements it; the engine speaks only this and
 * the SQL text of its dialect.
 */

/** One SQL statement with its positional parameters. */
export interface Statement {
  readonly sql: string
  readonly params: readonly unknown[]
}

/** What a statement returned: its rows (empty for writes) and how many rows it changed or matched. */
export interface SqlResult {
  readonly rows: readonly Readonly<Record<string, unknown>>[]
  readonly affected: number
}

export interface SqlDriver {
  /** Calls cross a network: the engine puts a deadline on each. False for SQLite (in-process). */
  readonly remote: boolean
  /** The database lives in this process's memory only (`:memory:` SQLite), so it is not shared. */
  readonly memory: boolean
  query(statement: Statement): Promise<SqlResult>
  /**
   * Runs the statements in order in one transaction. `verify` sees the results before the commit
   * and may throw to roll everything back; the transaction rejects with what it threw.
   */
  transaction(
    statements: readonly Statement[],
    verify?: (results: readonly SqlResult[]) => void,
  ): Promise<SqlResult[]>
  /**
   * Runs one transaction whose statements depend on what the earlier ones returned: `script`
   * yields a statement, gets its result back, and returns the transaction's value; the commit
   * follows. A fresh generator per call, so a retry starts over. SQLite runs it synchronously
   * (`BEGIN IMMEDIATE`, nothing of this process interleaves); PostgreSQL and MySQL on one pooled
   * connection between `BEGIN` and `COMMIT`.
   */
  converse<T>(script: () => Generator<Statement, T, SqlResult>): Promise<T>
  /** Closes what the store opened; a client the caller passed in is left open. */
  close(): Promise<void>
}

/** What the store opens a pool of a networked database (`pg`, `mysql2`) with. */
export interface PoolConnect {
  readonly url: string | undefined
  readonly connection: Readonly<Record<string, unknown>> | undefined
  readonly poolSize: number
  readonly connectTimeout: number
}
