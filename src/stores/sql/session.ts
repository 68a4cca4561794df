import { CacheClosedError, StoreUnavailableError } from '../../errors.js'
import { absorbs, type CallGuard, type Fallback } from '../../internal/index.js'
import { publishDegraded } from '../../observe/index.js'
import type { Dialect, Plan, SqlDialectName } from './dialect.js'
import type { SqlDriver, SqlResult } from './driver.js'
import { openDriver } from './drivers/index.js'
import { DeadlineError, isMissingTable, isRetryable, toStoreError } from './errors.js'
import type { ResolvedSqlOptions } from './options.js'
import { stateMigration } from './state-table.js'

/** Tries of a call that met a deadlock or serialization failure. */
const ATTEMPTS = 5

export interface SessionCounters {
  errors: number
  ignored: number
  timeouts: number
}

/**
 * The store's hold on its database: opening the driver and migrating on first use, and the rules
 * every call follows. The store must be open, the answer must come within `timeout` (PostgreSQL,
 * MySQL), deadlocks are retried; failures become typed errors, and under `onError: 'ignore'`
 * unavailability resolves to the call's fallback instead.
 */
export class Session implements CallGuard<SqlDriver> {
  readonly counters: SessionCounters = { errors: 0, ignored: 0, timeouts: 0 }
  readonly #options: ResolvedSqlOptions
  readonly #sql: Dialect
  readonly #name: SqlDialectName
  readonly #onReady: () => void
  #opening: Promise<SqlDriver> | undefined
  #migration: Promise<void> | undefined
  /** The driver once open and migrated: calls skip the readiness chain. */
  #live: SqlDriver | undefined
  #closed = false

  constructor(options: ResolvedSqlOptions, sql: Dialect, onReady: () => void) {
    this.#options = options
    this.#sql = sql
    this.#name = options.dialect
    this.#onReady = onReady
  }

  assertOpen(): void {
    if (this.#closed) throw new CacheClosedError(`This ${this.#name} store was closed; create a new one`)
  }

  /**
   * Runs `run` against the driver under the rules above. `fallback` answers instead of an
   * unavailability error under `onError: 'ignore'`; `op` names the operation in events.
   */
  async call<T>(
    op: string,
    run: (driver: SqlDriver) => Promise<T>,
    fallback: NoInfer<Fallback<T>>,
  ): Promise<T> {
    this.assertOpen()
    try {
      const attempt = async () => {
        const driver = this.#live ?? (await this.#ready())
        let remigrated = false
        for (let tries = 1; ; tries++) {
          try {
            return await run(driver)
          } catch (error) {
            if (!remigrated && this.#options.autoMigrate && isMissingTable(error)) {
              // The database came back empty: make the tables again, once, and retry.
              remigrated = true
              this.#migration = undefined
              await this.#remigrate(driver)
              continue
            }
            if (tries >= ATTEMPTS || !isRetryable(error)) throw error
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * tries))
          }
        }
      }
      // SQLite too: its driver waits for another process's lock on timers, so a deadline can
      // fire. Opening a local file (loading the library) is not held to it: each statement of
      // the migration is, by the driver's own bounded busy wait.
      if (this.#options.dialect === 'sqlite' && this.#live === undefined) await this.#ready()
      return await this.#deadline(attempt())
    } catch (error) {
      const failure = toStoreError(error, this.#name, this.#options.secrets)
      if (failure instanceof StoreUnavailableError) {
        this.counters.errors++
        if (error instanceof DeadlineError) this.counters.timeouts++
        if (absorbs(this.#options.onError, fallback) && !this.#closed) {
          this.counters.ignored++
          publishDegraded({ source: 'sql', kind: 'ignored-error', operation: op, reason: failure.message })
          return fallback
        }
      }
      throw failure
    }
  }

  /** Creates the tables (the rate limiter's state table too) if they do not exist. */
  async migrate(driver: SqlDriver): Promise<void> {
    await execute(driver, this.#sql.migrate({ unlogged: this.#options.unlogged }))
    const { dialect, table, unlogged } = this.#options
    await execute(driver, stateMigration(dialect, table, unlogged))
  }

  /** Runs the migration again (shared by the calls that found the table missing at once). */
  async #remigrate(driver: SqlDriver): Promise<void> {
    this.#migration ??= this.migrate(driver).catch((error: unknown) => {
      this.#migration = undefined
      throw error
    })
    await this.#migration
  }

  /** Closes the connections the store opened (waiting for one being opened). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const opening = this.#opening
    if (opening === undefined) return
    const driver = await opening.catch(() => undefined)
    await driver?.close().catch(() => {})
  }

  #deadline<T>(work: Promise<T>): Promise<T> {
    const ms = this.#options.timeout
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DeadlineError(ms)), ms)
      timer.unref()
      work.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  /** Opens the driver (once) and migrates (once, when `autoMigrate`); a failure is retried next call. */
  async #ready(): Promise<SqlDriver> {
    this.#opening ??= openDriver(this.#options).catch((error: unknown) => {
      this.#opening = undefined
      throw error
    })
    const driver = await this.#opening
    if (this.#options.autoMigrate) {
      this.#migration ??= this.migrate(driver).catch((error: unknown) => {
        this.#migration = undefined
        throw error
      })
      await this.#migration
    }
    this.assertOpen()
    this.#live = driver
    this.#onReady()
    return driver
  }
}

/** Runs a plan: alone, in order, or in one transaction, as it says. */
export async function execute(
  driver: SqlDriver,
  plan: Plan,
  verify?: (results: readonly SqlResult[]) => void,
): Promise<SqlResult[]> {
  if (plan.transaction) return driver.transaction(plan.statements, verify)
  const results: SqlResult[] = []
  for (const statement of plan.statements) results.push(await driver.query(statement))
  return results
}
