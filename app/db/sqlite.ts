import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Db, Param, Queryable, Row } from './sql.js'

/** SQLite through better-sqlite3 (synchronous underneath; statements are prepared once and reused). */
export function openSqlite(file: string): Db {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  const statements = new Map<string, Database.Statement>()
  const prepare = (sql: string) => {
    let statement = statements.get(sql)
    if (!statement) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  let queries = 0
  let txQueries = 0
  const over = (inTx: boolean): Queryable => ({
    dialect: 'sqlite',
    async all<T extends Row>(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return prepare(sql).all(...params) as T[]
    },
    async get<T extends Row>(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return prepare(sql).get(...params) as T | undefined
    },
    async run(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return prepare(sql).run(...params).changes
    },
    async insert(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return Number(prepare(sql).run(...params).lastInsertRowid)
    },
  })
  const q = over(false)
  const tx = over(true)
  // One writer at a time: a transaction's awaits must not interleave with another's statements.
  let queue: Promise<unknown> = Promise.resolve()
  return {
    ...q,
    get queries() {
      return queries
    },
    get txQueries() {
      return txQueries
    },
    description: `SQLite ${file}`,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const next = queue.then(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await fn(tx)
          db.exec('COMMIT')
          return result
        } catch (error) {
          db.exec('ROLLBACK')
          throw error
        }
      })
      queue = next.catch(() => undefined)
      return next
    },
    async exec(sql: string) {
      db.exec(sql)
    },
    async close() {
      db.close()
    },
    // The seeder inserts 500,000 rows with prepared statements in one synchronous transaction.
    raw: db,
  } as Db & { raw: Database.Database }
}
