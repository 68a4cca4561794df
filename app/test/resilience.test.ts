/**
 * Seed 5 (resilience) and the multi-process deployment: two app processes on one Redis and one
 * PostgreSQL, each with an L1, stay consistent (sessions, invalidation over the bus, live events;
 * lockouts, limits, PINs and locks across processes are in the seed suites); the cache falls back
 * to SQL while Redis is out and serves nothing stale when it returns; the cache version moves
 * every key; `CACHE=off` runs the same code with every read missing; MariaDB works too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, redisAvailable, startRedis } from '../../test/support/redis.js'
import { mysqlUrl } from '../../test/support/sql-servers.js'
import type { Account, UserStats } from '../services/finance.js'
import { addExpense, client, login, openEvents } from './http.js'
import {
  type FreshDatabase,
  freshMariaDb,
  inProcess,
  startTestApp,
  type TestApp,
  twoProcesses,
  useDeployment,
  waitFor,
} from './support.js'

const processes = await twoProcesses('postgres')
const myUrl = await mysqlUrl()

describe('resilience: CACHE=off runs the same code with every read missing', () => {
  const d = useDeployment(inProcess, { CACHE: 'off', THROTTLE_LOGIN: '1000/min' })

  it('queries the database on every read and answers the same', async () => {
    const { db, cache } = d.app!.services
    const demo = await login(d.a)
    const first = db.queries
    const stats = await demo.json<UserStats>('/api/stats')
    const second = db.queries
    expect(await demo.json('/api/stats')).toEqual(stats)
    expect(second - first).toBe(3)
    expect(db.queries - second).toBe(3)
    expect(stats).toEqual(await d.queries.stats(1))
    expect(cache.stats().hits).toBe(0)
  })
})

if (redisAvailable()) {
  describe('resilience: Redis out, the SQL fallback serves; nothing stale when it is back', () => {
    let redis: RedisServer
    let app: TestApp
    beforeAll(async () => {
      redis = await startRedis()
      app = await startTestApp({ REDIS_URL: redis.url, THROTTLE_LOGIN: '1000/min', CACHE_VERSION: '2' })
    })
    afterAll(async () => {
      await app?.close()
      await redis?.stop()
    })

    it('keeps reading and writing through a Redis outage, and reads fresh data after it', async () => {
      const { finance, queries } = app.services
      const before = await finance.stats(1) // cached in Redis
      expect(redis.cli('EXISTS', 'hlvm:v2:user_stats:1')).toBe('1')
      const [account] = await queries.accounts(1)
      const leaf = (await queries.categoryTree(1, 'expense', 3))[0]!.children[0]!.children[0]!
      redis.pause() // SIGSTOP: Redis keeps its data (the stale stats) and answers nothing
      try {
        const t0 = Date.now()
        await finance.addTransaction(1, {
          accountId: account!.id,
          categoryId: leaf.id,
          type: 'expense',
          amount: 777,
          date: new Date().toISOString().slice(0, 10),
          note: 'during outage',
        })
        const during = await finance.stats(1)
        expect(during).toEqual(await queries.stats(1))
        expect(during).not.toEqual(before)
        expect(Date.now() - t0).toBeLessThan(10_000)
        const page = await client(app.url).get('/public/merchants')
        expect(page.status).toBe(200)
      } finally {
        redis.resume()
      }
      // Every read after the outage is fresh: the journal deleted the pre-outage value in Redis.
      const deadline = Date.now() + 3000
      while (Date.now() < deadline) {
        expect(await finance.stats(1)).toEqual(await queries.stats(1))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const demo = await login(app.url)
      expect(await demo.json('/api/stats')).toEqual(await queries.stats(1))
    })
  })
}

if (processes) {
  describe('two app processes on one Redis and one PostgreSQL, with an L1 in each', () => {
    const d = useDeployment(processes, { CACHE_L1: 'true', CACHE_VERSION: '7', THROTTLE_LOGIN: '1000/min' })

    it('shares sessions: a login on one process is valid on the other', async () => {
      const onA = await login(d.a)
      expect(await onA.via(d.b).json('/api/me')).toMatchObject({ username: 'demo' })
    })

    it('invalidates on every process: a write on A is seen by the next read on B', async () => {
      const onA = await login(d.a)
      const onB = onA.via(d.b)
      const stats = await onB.json<UserStats>('/api/stats') // now cached (Redis and B's L1)
      const accounts = await onB.json<Account[]>('/api/accounts')
      const response = await addExpense(onA, accounts[0]!.id, 1000)
      expect(response.status).toBe(201)
      const month = new Date().toISOString().slice(0, 7)
      const count = (s: UserStats) => s.months.find((m) => m.month === month)!.count
      // The bus message reaches B's L1 within milliseconds; poll briefly rather than sleep.
      await waitFor(async () => count(await onB.json<UserStats>('/api/stats')) === count(stats) + 1, 5000)
      expect((await onB.json<Account[]>('/api/accounts'))[0]!.balance).toBe(accounts[0]!.balance - 1000)
      expect(d.redis!.cli('EXISTS', 'hlvm:v7:user_accounts:1:my')).toBe('1') // prefix and version
    })

    it('pushes a transfer made on A to a page open on B', async () => {
      const onA = await login(d.a)
      const live = await openEvents(onA.via(d.b))
      const accounts = await onA.json<Account[]>('/api/accounts')
      await waitFor(async () => {
        if (live.events.some((e) => e.reason === 'transfer')) return true
        await onA.post('/api/transfers', { from: accounts[0]!.id, to: accounts[1]!.id, amount: 1 })
        await new Promise((resolve) => setTimeout(resolve, 200))
        return live.events.some((e) => e.reason === 'transfer')
      }, 10_000)
      live.close()
    })
  })
}

if (myUrl) {
  describe('the app on MariaDB', () => {
    let database: FreshDatabase
    let app: TestApp
    beforeAll(async () => {
      database = await freshMariaDb(myUrl)
      app = await startTestApp({ ...database.env, THROTTLE_LOGIN: '1000/min' })
    }, 120_000)
    afterAll(async () => {
      await app?.close()
      await database?.drop()
    })

    it('serves cached statistics that follow writes', async () => {
      const demo = await login(app.url)
      const stats = await demo.json<UserStats>('/api/stats')
      expect(stats).toEqual(await app.services.queries.stats(1))
      const [account] = await app.services.queries.accounts(1)
      const response = await addExpense(demo, account!.id, 1500)
      expect(response.status).toBe(201)
      expect(await demo.json('/api/stats')).toEqual(await app.services.queries.stats(1))
      const [a, b] = await app.services.queries.accounts(1)
      expect((await demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 10 })).status).toBe(200)
    })
  })
}
