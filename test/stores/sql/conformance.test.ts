import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest'
import { memoryStore } from '../../../src/index.js'
import { type SqlStore, sqlStore } from '../../../src/stores/sql/index.js'
import { runStoreConformance } from '../../../src/testing/index.js'
import {
  dropMysql,
  dropPostgres,
  mysqlUrl,
  postgresUrl,
  tempDir,
  uniqueTable,
} from '../../support/sql-servers.js'

const api = { describe, it, beforeEach, afterEach }
const pgUrl = await postgresUrl()
const myUrl = await mysqlUrl()

/** Stores on one SQLite file in a temp directory removed after the enclosing describe. */
function sqliteFile(file: string): () => SqlStore {
  const temp = tempDir()
  const table = uniqueTable()
  afterAll(() => temp.remove())
  return () => sqlStore({ dialect: 'sqlite', filename: join(temp.dir, file), table })
}

describe('sql store conformance: sqlite file', () => {
  runStoreConformance(api, { name: 'sqlite (file)', createStore: sqliteFile('cache.db') })
})

describe('sql store conformance: sqlite file as L2 of tiers', () => {
  runStoreConformance(api, {
    name: 'sqlite (file)',
    createStore: sqliteFile('tiers.db'),
    l1: () => memoryStore(),
  })
})

describe('sql store conformance: sqlite :memory:', () => {
  runStoreConformance(api, {
    name: 'sqlite (memory)',
    createStore: () => sqlStore({ dialect: 'sqlite', filename: ':memory:' }),
  })
})

/** The conformance suite on a client pool, its table dropped and the pool ended after the describe. */
function onPool<P extends { end(): Promise<void> }>(
  name: string,
  open: () => P,
  drop: (pool: P, table: string) => Promise<void>,
  store: (pool: P, table: string) => SqlStore,
): void {
  const table = uniqueTable()
  let pool: P
  beforeAll(() => {
    pool = open()
  })
  afterAll(async () => {
    await drop(pool, table)
    await pool.end()
  })
  runStoreConformance(api, { name, createStore: () => store(pool, table) })
}

describe.skipIf(pgUrl === undefined)('sql store conformance: postgres', () => {
  onPool(
    'postgres (client pool)',
    () => new pg.Pool({ connectionString: pgUrl, max: 4 }),
    dropPostgres,
    (client, table) => sqlStore({ dialect: 'postgres', client, table }),
  )
})

describe.skipIf(myUrl === undefined)('sql store conformance: mysql', () => {
  onPool(
    'mysql (client pool)',
    () => mysql.createPool({ uri: myUrl, connectionLimit: 4 }),
    dropMysql,
    (client, table) => sqlStore({ dialect: 'mysql', client, table }),
  )
})
