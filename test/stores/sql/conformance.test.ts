import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest'
import { memoryStore } from '../../../src/index.js'
import { sqlStore } from '../../../src/stores/sql/index.js'
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

describe('sql store conformance: sqlite file', () => {
  const temp = tempDir()
  const table = uniqueTable()
  afterAll(() => temp.remove())
  runStoreConformance(api, {
    name: 'sqlite (file)',
    createStore: () => sqlStore({ dialect: 'sqlite', filename: join(temp.dir, 'cache.db'), table }),
  })
})

describe('sql store conformance: sqlite file as L2 of tiers', () => {
  const temp = tempDir()
  const table = uniqueTable()
  afterAll(() => temp.remove())
  runStoreConformance(api, {
    name: 'sqlite (file)',
    createStore: () => sqlStore({ dialect: 'sqlite', filename: join(temp.dir, 'tiers.db'), table }),
    l1: () => memoryStore(),
  })
})

describe('sql store conformance: sqlite :memory:', () => {
  runStoreConformance(api, {
    name: 'sqlite (memory)',
    createStore: () => sqlStore({ dialect: 'sqlite', filename: ':memory:' }),
  })
})

describe.skipIf(pgUrl === undefined)('sql store conformance: postgres', () => {
  const table = uniqueTable()
  let pool: pg.Pool
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: pgUrl, max: 4 })
  })
  afterAll(async () => {
    await dropPostgres(pool, table)
    await pool.end()
  })
  runStoreConformance(api, {
    name: 'postgres (client pool)',
    createStore: () => sqlStore({ dialect: 'postgres', client: pool, table }),
  })
})

describe.skipIf(myUrl === undefined)('sql store conformance: mysql', () => {
  const table = uniqueTable()
  let pool: mysql.Pool
  beforeAll(() => {
    pool = mysql.createPool({ uri: myUrl, connectionLimit: 4 })
  })
  afterAll(async () => {
    await dropMysql(pool, table)
    await pool.end()
  })
  runStoreConformance(api, {
    name: 'mysql (client pool)',
    createStore: () => sqlStore({ dialect: 'mysql', client: pool, table }),
  })
})
