import net from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createCache, StoreUnavailableError } from '../../../src/index.js'
import { sqlStore } from '../../../src/stores/sql/index.js'
import { loadPackage } from '../../../src/stores/sql/load.js'
import { closedPort } from '../../support/processes.js'
import { tempDir, uniqueTable } from '../../support/sql-servers.js'

const PASSWORD = 'hunter2-very-secret'

/** A server that accepts connections and never answers: a hung database. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

async function timed<T>(work: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  try {
    await work
    return { error: undefined, ms: performance.now() - started }
  } catch (error) {
    return { error, ms: performance.now() - started }
  }
}

describe('sql store faults', () => {
  for (const [dialect, scheme] of [
    ['postgres', 'postgres'],
    ['mysql', 'mysql'],
  ] as const) {
    it(`${dialect}: a refused connection fails fast with E_STORE_UNAVAILABLE and no password`, async () => {
      const port = await closedPort()
      const store = sqlStore({ url: `${scheme}://app:${PASSWORD}@127.0.0.1:${port}/test`, timeout: 1000 })
      const cache = createCache({ store })
      const { error, ms } = await timed(cache.get('k'))
      expect(error).toBeInstanceOf(StoreUnavailableError)
      expect(error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      expect((error as Error).cause).toBeDefined()
      expect(ms).toBeLessThan(1500)
      expect(String((error as Error).message)).not.toContain(PASSWORD)
      expect(String(((error as Error).cause as Error).message)).not.toContain(PASSWORD)
      expect(store.stats().errors).toBe(1)
      await cache.close()
    })

    it(`${dialect}: a server that never answers fails within the timeout, and close does not hang`, async () => {
      const server = await silentServer()
      const store = sqlStore({
        url: `${scheme}://app:${PASSWORD}@127.0.0.1:${server.port}/test`,
        timeout: 300,
        connectTimeout: 800,
      })
      const cache = createCache({ store })
      const { error, ms } = await timed(cache.set('k', 1))
      expect(error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      expect(ms).toBeGreaterThanOrEqual(250)
      expect(ms).toBeLessThan(1000)
      expect(store.stats().timeouts).toBe(1)
      const closing = await timed(cache.close())
      expect(closing.ms).toBeLessThan(3000)
      await server.close()
    })
  }

  it("onError: 'ignore' turns an unreachable database into misses and no-ops (incr still rejects)", async () => {
    const port = await closedPort()
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'x',
      database: 'test',
      connectionTimeoutMillis: 500,
    })
    pool.on('error', () => {})
    const store = sqlStore({ dialect: 'postgres', client: pool, onError: 'ignore', timeout: 1000 })
    const cache = createCache({ store })
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('k', 1)
    expect(await cache.add('k', 1)).toBe(false)
    expect(await cache.delete('k')).toBe(false)
    expect((await cache.getMany(['a', 'b'])).size).toBe(0)
    expect(await cache.deletePattern('*')).toBe(0)
    const keys: string[] = []
    for await (const key of cache.keys()) keys.push(key)
    expect(keys).toEqual([])
    await expect(cache.incr('n')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
    expect(store.stats()).toMatchObject({ errors: 8, ignored: 7 })
    await cache.close()
    await pool.end()
  })

  describe('sqlite', () => {
    const temp = tempDir()
    afterAll(() => temp.remove())

    it('a database locked by another connection past busyTimeout is E_STORE_UNAVAILABLE', async () => {
      const file = join(temp.dir, 'locked.db')
      const table = uniqueTable()
      const store = sqlStore({ dialect: 'sqlite', filename: file, table, busyTimeout: 50 })
      const cache = createCache({ store })
      await cache.set('k', 1)
      const other = new Database(file)
      other.exec('BEGIN EXCLUSIVE')
      await expect(cache.set('k', 2)).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      other.exec('ROLLBACK')
      other.close()
      await cache.set('k', 3)
      expect(await cache.get('k')).toBe(3)
      await cache.close()
    })

    it('an unopenable file is E_STORE_UNAVAILABLE, reported by the first call', async () => {
      const store = sqlStore({ dialect: 'sqlite', filename: join(temp.dir, 'missing-dir', 'x.db') })
      await expect(createCache({ store }).get('k')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      await store.close()
    })

    it('a closed store rejects calls with E_CACHE_CLOSED; close is idempotent', async () => {
      const store = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
      expect(store.capabilities).toEqual({ valueKind: 'bytes', atomic: true, shared: false, tags: true })
      await store.set('k', Buffer.from('1'), { ttl: null })
      await store.close()
      await store.close()
      await expect(store.get('k')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
      await expect(store.prune()).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
    })

    it('refuses values that are not bytes when used without a cache', async () => {
      const store = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
      await expect(store.set('k', { live: true }, { ttl: null })).rejects.toMatchObject({
        code: 'E_VALUE_NOT_ENCODABLE',
      })
      await store.close()
    })
  })

  it('a missing client library is an InvalidOptionError naming the package', async () => {
    const missing = Object.assign(new Error("Cannot find package 'pg'"), { code: 'ERR_MODULE_NOT_FOUND' })
    await expect(loadPackage('pg', 'postgres', () => Promise.reject(missing))).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining('npm install pg'),
    })
    const other = new Error('boom')
    await expect(loadPackage('pg', 'postgres', () => Promise.reject(other))).rejects.toBe(other)
  })
})
