import type { Dialect } from './dialect.js'
import type { SqlDriver } from './driver.js'
import { numberOf } from './values.js'

/** Rows deleted per statement by prune and cull, so no statement holds locks for long. */
const CHUNK = 1000

export interface MaintenanceOptions {
  readonly maxEntries: number | undefined
  readonly cullFrequency: number
  readonly pruneInterval: number | undefined
  readonly now: () => number
}

/** Runs work against the database the way every store call does (deadline, error mapping). */
export type Runner = <T>(op: string, work: (driver: SqlDriver) => Promise<T>) => Promise<T>

/**
 * Keeps the table bounded: culling past `maxEntries` (Django's `MAX_ENTRIES`/`CULL_FREQUENCY`),
 * and a periodic prune of expired rows and stale tag links. Expiry is enforced on every read, so
 * neither is needed for correctness, only for size.
 */
export class Maintenance {
  /** Rows counted the last time the size was checked. */
  entries: number | undefined
  evictions = 0
  pruned = 0
  readonly #sql: Dialect
  readonly #options: MaintenanceOptions
  readonly #run: Runner
  readonly #checkEvery: number
  #writes = 0
  #culling: Promise<void> | undefined
  #pruning: Promise<number> | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(sql: Dialect, options: MaintenanceOptions, run: Runner) {
    this.#sql = sql
    this.#options = options
    this.#run = run
    // Counting rows is a scan in PostgreSQL: do it every 1% of maxEntries writes, not every write.
    this.#checkEvery = Math.max(1, Math.floor((options.maxEntries ?? 0) / 100))
  }

  /** Starts the periodic prune (once); the timer never holds the process open. */
  start(): void {
    const interval = this.#options.pruneInterval
    if (interval === undefined || this.#timer !== undefined || this.#stopped) return
    this.#timer = setInterval(() => {
      this.prune().catch(() => {})
    }, interval)
    this.#timer.unref()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * Records `count` new rows; when a size check is due, culls and resolves once it is done. A
   * failed cull is retried at the next check: the write it follows has succeeded regardless.
   */
  wrote(count: number): Promise<void> | undefined {
    if (this.#options.maxEntries === undefined || this.#stopped) return undefined
    this.#writes += count
    if (this.#writes < this.#checkEvery || this.#culling !== undefined) return undefined
    this.#writes = 0
    this.#culling = this.#run('cull', (driver) => this.#cull(driver))
      .catch(() => {})
      .finally(() => {
        this.#culling = undefined
      })
    return this.#culling
  }

  /** Deletes expired rows and stale tag links; resolves to how many rows. One prune at a time. */
  prune(): Promise<number> {
    this.#pruning ??= this.#run('prune', async (driver) => {
      const deleted = await this.#deleteExpired(driver)
      await driver.query(this.#sql.deleteStaleTags())
      return deleted
    }).finally(() => {
      this.#pruning = undefined
    })
    return this.#pruning
  }

  async #deleteExpired(driver: SqlDriver): Promise<number> {
    let total = 0
    for (;;) {
      const { affected } = await driver.query(this.#sql.deleteExpired(this.#options.now(), CHUNK))
      total += affected
      if (affected < CHUNK) break
    }
    this.pruned += total
    return total
  }

  async #cull(driver: SqlDriver): Promise<void> {
    const max = this.#options.maxEntries as number
    const count = await this.#count(driver)
    if (count <= max) return
    const left = count - (await this.#deleteExpired(driver))
    this.entries = left
    if (left <= max) return
    const frequency = this.#options.cullFrequency
    const target = Math.max(frequency === 0 ? left : Math.floor(left / frequency), left - max)
    let culled = 0
    while (culled < target) {
      const { affected } = await driver.query(this.#sql.cull(Math.min(CHUNK, target - culled)))
      culled += affected
      if (affected === 0) break
    }
    this.evictions += culled
    this.entries = left - culled
    await driver.query(this.#sql.deleteStaleTags())
  }

  async #count(driver: SqlDriver): Promise<number> {
    const { rows } = await driver.query(this.#sql.count())
    const count = numberOf(rows[0]?.['n']) ?? 0
    this.entries = count
    return count
  }
}
