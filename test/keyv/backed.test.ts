import KeyvPostgres from '@keyv/postgres'
import KeyvSqlite from '@keyv/sqlite'
import Keyv from 'keyv'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { keyvBackedStore } from '../../src/keyv/index.js'
import { runStoreConformance } from '../../src/testing/index.js'
import { postgresUrl, tempDir, uniqueTable } from '../support/sql-servers.js'

const api = { describe, it, beforeEach, afterEach }

/** Any Keyv storage adapter as a cachekit store, held to the store contract for what it declares. */
runStoreConformance(api, {
  name: 'keyv (Map)',
  createStore: () => keyvBackedStore(new Keyv(), { shared: false }),
})

const sqlite = tempDir()
afterAll(() => sqlite.remove())
runStoreConformance(api, {
  name: 'keyv (@keyv/sqlite)',
  createStore: () =>
    keyvBackedStore(
      new Keyv({
        store: new KeyvSqlite({ uri: `sqlite://${sqlite.dir}/keyv.sqlite`, table: uniqueTable() }),
      }),
    ),
})

const pgUrl = await postgresUrl()
const tables: string[] = []
describe.skipIf(!pgUrl)('keyv (@keyv/postgres) against a real PostgreSQL', () => {
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: pgUrl })
    for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`)
    await pool.end()
  })

  runStoreConformance(api, {
    name: 'keyv (@keyv/postgres)',
    createStore: () => {
      const table = uniqueTable()
      tables.push(table)
      return keyvBackedStore(new Keyv({ store: new KeyvPostgres({ uri: pgUrl as string, table }) }))
    },
  })
})

describe('keyvBackedStore', () => {
  let keyv: Keyv
  beforeAll(() => {
    keyv = new Keyv()
  })

  it('declares what it cannot do, and every cachekit value round-trips through Keyv', async () => {
    const store = keyvBackedStore(keyv, { shared: false })
    expect(store.capabilities).toEqual({ valueKind: 'bytes', atomic: false, shared: false, tags: false })
    const cache = createCache({ store, prefix: 'kb', ttl: '1m' })
    const value = { when: new Date(0), tags: new Set(['a']), big: 10n ** 20n, bytes: new Uint8Array([1, 2]) }
    await cache.set('v', value)
    expect(await cache.get('v')).toEqual(value)
    expect(await cache.getOrSet('g', () => 'made')).toBe('made')
    expect(cache.stats().hits).toBe(1)
  })

  it('an entry Keyv holds that cachekit did not write is a miss, counted as an error', async () => {
    await keyv.set('kb:foreign', { not: 'bytes' })
    const cache = createCache({ store: keyvBackedStore(keyv), prefix: 'kb' })
    expect(await cache.get('foreign')).toBeUndefined()
    expect(cache.stats().errors).toBe(1)
  })

  it('refuses what is not a Keyv instance with a typed error', () => {
    expect(() => keyvBackedStore({} as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })
})
