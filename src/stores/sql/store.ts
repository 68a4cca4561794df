import { staleEntry } from '../../codec/index.js'
import { InvalidKeyError, InvalidOptionError, NotAnIntegerError } from '../../errors.js'
import { checkValueBytes, globMatcher, RETHROW } from '../../internal/index.js'
import { BACKING, type Backing } from '../backing.js'
import type {
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from '../types.js'
import {
  type Dialect,
  MAX_KEY_BYTES,
  MAX_TAG_BYTES,
  type Row,
  type SqlDialectName,
  tableNames,
} from './dialect.js'
import { mysqlDialect, postgresDialect, sqliteDialect } from './dialects/index.js'
import type { SqlResult, Statement } from './driver.js'
import { Maintenance } from './maintenance.js'
import { type ResolvedSqlOptions, resolveOptions, type SqlStoreOptions } from './options.js'
import { execute, Session } from './session.js'
import { SqlStateTable } from './state-table.js'
import { expiry, fitsUtf8, fromColumn, integerOf, keyOf, newVersion, numberOf, toBuffer } from './values.js'

/** What `stats()` reports: the store contract's figures plus the SQL store's own. */
export interface SqlStoreStats extends StoreStats {
  /** Rows in the table at the last size check (made only with `maxEntries`), expired ones included. */
  readonly entries?: number
  /** Rows deleted by culling past `maxEntries`. */
  readonly evictions: number
  /** Expired rows deleted by prune and culling. */
  readonly pruned: number
  /** Calls that failed because the database was unreachable or slow. */
  readonly errors: number
  /** Of those, the ones answered as a miss or no-op under `onError: 'ignore'`. */
  readonly ignored: number
  /** Of those, the ones that ran past `timeout`. */
  readonly timeouts: number
}

/** What a read or delete sees when the database is unavailable under `onError: 'ignore'`. */
const NO_ROWS: SqlResult = { rows: [], affected: 0 }

const DIALECTS: Readonly<Record<SqlDialectName, typeof postgresDialect>> = {
  postgres: postgresDialect,
  sqlite: sqliteDialect,
  mysql: mysqlDialect,
}

/**
 * A store in a PostgreSQL, SQLite or MySQL/MariaDB table, for a cache that must survive restarts
 * or be shared without Redis, or as a fallback while Redis is down. One engine; the SQL of each
 * database lives in its dialect. Expiry is checked on every read; a periodic prune and culling
 * past `maxEntries` keep the table bounded. See {@link sqlStore}.
 */
export class SqlStore implements StoreCore, StoreExtras {
  readonly name: SqlDialectName
  readonly capabilities: StoreCapabilities
  readonly #options: ResolvedSqlOptions
  readonly #sql: Dialect
  readonly #maintenance: Maintenance
  readonly #session: Session
  readonly #state: SqlStateTable

  constructor(options: SqlStoreOptions) {
    this.#options = resolveOptions(options)
    const o = this.#options
    this.name = o.dialect
    this.#sql = DIALECTS[o.dialect](tableNames(o.table))
    const client = o.client as { memory?: unknown } | undefined
    const memory = o.dialect === 'sqlite' && (client ? client.memory === true : o.filename === ':memory:')
    this.capabilities = { valueKind: 'bytes', atomic: true, shared: !memory, tags: true }
    this.#session = new Session(o, this.#sql, () => this.#maintenance.start())
    this.#state = new SqlStateTable(o.dialect, o.table, this.#session)
    this.#maintenance = new Maintenance(this.#sql, { ...o, now: () => o.clock.now() }, (op, work) =>
      this.#session.call(op, work, RETHROW),
    )
  }

  /** Declares itself to the other doors (see {@link BACKING}). */
  [BACKING](): Backing {
    return { kind: 'sql', store: this, state: this.#state }
  }

  /** Creates the tables and indexes if they do not exist (Django's `createcachetable`). Idempotent. */
  async migrate(): Promise<void> {
    await this.#session.call('migrate', (driver) => this.#session.migrate(driver), RETHROW)
  }

  /** Deletes expired rows now; resolves to how many. The store also does this every `pruneInterval`. */
  async prune(): Promise<number> {
    this.#session.assertOpen()
    return this.#maintenance.prune()
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const full = this.#key(key)
    const { rows } = await this.#query('get', (now) => this.#sql.get(full, now))
    const row = rows[0]
    return row === undefined ? undefined : fromColumn(row['cache_value'])
  }

  async getEntry(key: string): Promise<StoreEntry | undefined> {
    const full = this.#key(key)
    const { rows } = await this.#query('getEntry', (now) => this.#sql.get(full, now))
    const row = rows[0]
    if (row === undefined) return undefined
    return { value: fromColumn(row['cache_value']), expiresAt: numberOf(row['expires_at']) }
  }

  async has(key: string): Promise<boolean> {
    const full = this.#key(key)
    const { rows } = await this.#query('has', (now) => this.#sql.expiry(full, now))
    return rows.length > 0
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const full = this.#key(key)
    let now = 0
    const { rows } = await this.#query('ttl', (at) => {
      now = at
      return this.#sql.expiry(full, at)
    })
    const row = rows[0]
    if (row === undefined) return undefined
    const expiresAt = numberOf(row['expires_at'])
    return expiresAt === null ? null : Math.max(0, expiresAt - now)
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const fulls = keys.map((key) => this.#key(key))
    const unique = [...new Set(fulls)]
    const found = new Map<string, Uint8Array>()
    for (let i = 0; i < unique.length; i += this.#sql.maxBatch) {
      const chunk = unique.slice(i, i + this.#sql.maxBatch)
      const { rows } = await this.#query('getMany', (now) => this.#sql.getMany(chunk, now))
      for (const row of rows) found.set(keyOf(row['cache_key']), fromColumn(row['cache_value']))
    }
    return fulls.map((key) => found.get(key))
  }

  async set(key: string, value: unknown, options: StoreWriteOptions): Promise<void> {
    await this.setMany([{ ...options, key, value }])
  }

  async setMany(writes: readonly StoreWrite[]): Promise<void> {
    // Check everything first: one bad write aborts the batch before anything is written.
    const latest = new Map<string, StoreWrite>()
    for (const write of writes) {
      this.#key(write.key)
      this.#tags(write.tags)
      this.#checkValue(write.key, write.value)
      latest.delete(write.key)
      latest.set(write.key, write)
    }
    if (latest.size === 0) return
    const groups = new Map<string, { tags: readonly string[]; writes: StoreWrite[] }>()
    for (const write of latest.values()) {
      const tags = [...new Set(write.tags ?? [])]
      const id = JSON.stringify(tags)
      let group = groups.get(id)
      if (!group) groups.set(id, (group = { tags, writes: [] }))
      group.writes.push(write)
    }
    await this.#session.call(
      'setMany',
      async (driver) => {
        const now = this.#options.clock.now()
        const statements: Statement[] = []
        for (const { tags, writes: group } of groups.values()) {
          const version = tags.length > 0 ? newVersion() : null
          const rows = group.map((write) => this.#row(write.key, write.value, write.ttl, version, now))
          for (let i = 0; i < rows.length; i += this.#sql.maxBatch) {
            statements.push(this.#sql.set(rows.slice(i, i + this.#sql.maxBatch)))
            if (version !== null) {
              const keys = rows.slice(i, i + this.#sql.maxBatch).map((row) => row.key)
              statements.push(this.#sql.tag(keys, version, tags))
            }
          }
        }
        await (statements.length === 1
          ? driver.query(statements[0] as Statement)
          : driver.transaction(statements))
      },
      undefined,
    )
    await this.#maintenance.wrote(latest.size)
  }

  async add(key: string, value: unknown, options: StoreWriteOptions): Promise<boolean> {
    const full = this.#key(key)
    const tags = [...new Set(this.#tags(options.tags))]
    this.#checkValue(key, value)
    const added = await this.#session.call(
      'add',
      async (driver) => {
        const now = this.#options.clock.now()
        const version = tags.length > 0 ? newVersion() : null
        const plan = this.#sql.add(this.#row(full, value, options.ttl, version, now), now)
        const last = plan.statements.length - 1
        const results =
          version === null
            ? await execute(driver, plan)
            : await driver.transaction([...plan.statements, this.#sql.tag([full], version, tags)])
        return (results[last]?.affected ?? 0) > 0
      },
      false,
    )
    if (added) await this.#maintenance.wrote(1)
    return added
  }

  async incr(key: string, delta: number, options: StoreWriteOptions): Promise<number> {
    const full = this.#key(key)
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidOptionError(`incr/decr step must be a safe integer, got ${String(delta)}`)
    }
    const next = await this.#session.call(
      'incr',
      async (driver) => {
        const now = this.#options.clock.now()
        const created = this.#row(full, Buffer.from(String(delta), 'latin1'), options.ttl, null, now)
        const plan = this.#sql.incr(created, delta, now)
        const read = (results: readonly SqlResult[]) => {
          const value = integerOf(results.at(-1)?.rows[0]?.['cache_value'])
          if (value === undefined) {
            throw new NotAnIntegerError(
              'Cannot increment: the stored value is not an integer, or the result would leave the safe integer range',
            )
          }
          return value
        }
        return read(await execute(driver, plan, read))
      },
      RETHROW,
    )
    await this.#maintenance.wrote(1)
    return next
  }

  async touch(key: string, ttl: number | null): Promise<boolean> {
    const full = this.#key(key)
    const { affected } = await this.#query('touch', (now) => this.#sql.touch(full, expiry(ttl, now), now))
    return affected > 0
  }

  async delete(key: string): Promise<boolean> {
    return (await this.deleteMany([key])) > 0
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    return this.#deleteKeys([...new Set(keys.map((key) => this.#key(key)))])
  }

  /** Deletes keys read from the table (not checked again: a row written by hand may break the rules). */
  async #deleteKeys(unique: readonly string[]): Promise<number> {
    let deleted = 0
    for (let i = 0; i < unique.length; i += this.#options.batchSize) {
      const chunk = unique.slice(i, i + this.#options.batchSize)
      const { affected } = await this.#query('delete', (now) => this.#sql.delete(chunk, now))
      deleted += affected
    }
    return deleted
  }

  async *keys(pattern: string): AsyncGenerator<string> {
    for await (const page of this.#pages(pattern)) yield* page
  }

  async deletePattern(pattern: string): Promise<number> {
    let deleted = 0
    for await (const page of this.#pages(pattern))
      if (page.length > 0) deleted += await this.#deleteKeys(page)
    return deleted
  }

  async deleteByTag(tag: string): Promise<number> {
    this.#tags([tag])
    const results = await this.#session.call(
      'deleteByTag',
      (driver): Promise<readonly SqlResult[]> =>
        execute(driver, this.#sql.deleteByTag(tag, this.#options.clock.now())),
      [],
    )
    return results[0]?.affected ?? 0
  }

  /**
   * Makes every entry written with the tag stale (see the codec's `staleEntry`): each is
   * rewritten only if it still has the version it was tagged with, so a concurrent rewrite wins.
   */
  async expireByTag(tag: string, staleAt: number): Promise<number> {
    this.#tags([tag])
    const { rows } = await this.#query('expireByTag', (now) => this.#sql.tagged(tag, now))
    let touched = 0
    for (const row of rows) {
      const key = keyOf(row['cache_key'])
      const value = fromColumn(row['cache_value'])
      const stale = staleEntry(value, staleAt)
      if (stale === value) continue
      const version = row['tag_version']
      const { affected } = await this.#query('expireByTag', () =>
        stale === undefined
          ? this.#sql.deleteVersion(key, version)
          : this.#sql.replaceValue(key, version, toBuffer(stale)),
      )
      touched += affected
    }
    return touched
  }

  stats(): SqlStoreStats {
    const m = this.#maintenance
    return {
      ...(m.entries === undefined ? {} : { entries: m.entries }),
      evictions: m.evictions,
      pruned: m.pruned,
      ...this.#session.counters,
    }
  }

  /** Stops the prune timer and closes the connections the store opened. Idempotent. */
  async close(): Promise<void> {
    this.#maintenance.stop()
    await this.#session.close()
  }

  /** Live keys matching the glob, a page of up to `batchSize` candidates at a time, in key order. */
  async *#pages(pattern: string): AsyncGenerator<string[]> {
    this.#session.assertOpen()
    if (typeof pattern !== 'string') throw new InvalidKeyError('A key pattern must be a string')
    // No key holds NUL (see #key), and PostgreSQL text cannot carry one.
    if (pattern.includes('\0')) return
    const matches = globMatcher(pattern)
    const match = this.#sql.match(pattern)
    const limit = this.#options.batchSize
    let after = ''
    for (;;) {
      const from = after
      const { rows } = await this.#query('keys', (now) => this.#sql.keys(match, from, now, limit))
      const keys = rows.map((row) => keyOf(row['cache_key']))
      yield keys.filter(matches)
      if (keys.length < limit) return
      after = keys[keys.length - 1] as string
    }
  }

  /** Runs one statement built at the current time; under `onError: 'ignore'` a failure reads as no rows. */
  #query(op: string, build: (now: number) => Statement): Promise<SqlResult> {
    return this.#session.call(op, (driver) => driver.query(build(this.#options.clock.now())), NO_ROWS)
  }

  /** Refuses what the store cannot keep before anything is written. */
  #checkValue(key: string, value: unknown): void {
    checkValueBytes(toBuffer(value).byteLength, this.#options.maxValueBytes, key)
  }

  #row(key: string, value: unknown, ttl: number | null, tagVersion: number | null, now: number): Row {
    return { key, value: toBuffer(value), expiresAt: expiry(ttl, now), tagVersion }
  }

  #key(key: string): string {
    this.#session.assertOpen()
    if (typeof key !== 'string' || key === '')
      throw new InvalidKeyError('Cache keys must be non-empty strings')
    if (!fitsUtf8(key, MAX_KEY_BYTES) || key.includes('\0')) {
      throw new InvalidKeyError(
        `SQL store keys must take at most ${MAX_KEY_BYTES} bytes in UTF-8 and hold no NUL character: hash the variable part`,
      )
    }
    return key
  }

  #tags(tags: readonly string[] | undefined): readonly string[] {
    if (tags === undefined) return []
    for (const tag of tags) {
      if (typeof tag !== 'string' || tag === '' || !fitsUtf8(tag, MAX_TAG_BYTES) || tag.includes('\0')) {
        throw new InvalidOptionError(
          `SQL store tags must be non-empty strings of at most ${MAX_TAG_BYTES} bytes in UTF-8, without NUL`,
        )
      }
    }
    return tags
  }
}
