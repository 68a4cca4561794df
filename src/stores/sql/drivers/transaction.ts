import type { SqlDriver, SqlResult, Statement } from '../driver.js'

/**
 * `transaction` in terms of `converse`, for every driver: the statements in order, `verify` on
 * their results before the commit.
 */
export function transactionVia(
  driver: Pick<SqlDriver, 'converse'>,
  statements: readonly Statement[],
  verify: ((results: readonly SqlResult[]) => void) | undefined,
): Promise<SqlResult[]> {
  return driver.converse(function* () {
    const results: SqlResult[] = []
    for (const statement of statements) results.push(yield statement)
    verify?.(results)
    return results
  })
}

/** One pooled connection as a transaction sees it (pg and mysql2 differ only in these calls). */
export interface PooledConnection {
  begin(): Promise<unknown>
  run(statement: Statement): Promise<SqlResult>
  commit(): Promise<unknown>
  rollback(): Promise<unknown>
  /** Back to the pool; `broken` (a rollback failed) means its state is unknown: destroy it instead. */
  release(broken: Error | undefined): void
}

/**
 * `converse` on one pooled connection: BEGIN, each statement `script` yields with its result sent
 * back, COMMIT; on any failure ROLLBACK and the failure rethrown.
 */
export async function converseOn<T>(
  connection: PooledConnection,
  script: () => Generator<Statement, T, SqlResult>,
): Promise<T> {
  let broken: Error | undefined
  try {
    await connection.begin()
    const steps = script()
    let step = steps.next()
    while (!step.done) step = steps.next(await connection.run(step.value))
    await connection.commit()
    return step.value
  } catch (error) {
    await connection.rollback().catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
    })
    throw error
  } finally {
    connection.release(broken)
  }
}
