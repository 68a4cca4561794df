/**
 * Seed 5 (resilience) and the multi-process deployment: two app processes on one Redis and one
 * PostgreSQL stay consistent (sessions, invalidation, lockouts, live events); the cache falls back
 * to SQL while Redis is out and serves nothing stale when it returns; the cache version moves
 * every key; `CACHE=off` runs the same code with every read missing; MariaDB works too.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, redisAvailable, startRedis } from '../../test/support/redis.js'
import { mysqlUrl, postgresUrl } from '../../test/support/sql-servers.js'
import type { Account, UserStats } from '../services/finance.js'
import { type AppProcess, spawnApp } from '../spawn.js'
import { client, login, startTestApp, type TestApp, waitFor } from './support.js'

const pgUrl = await postgresUrl()
const myUrl = await mysqlUrl()

describe('resilience: CACHE=off runs the same code with every read missing', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp({ CACHE: 'off', THROTTLE_LOGIN: '1000/min' })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('queries the database on every read and answers the same', async () => {
    const demo = await login(app.url)
    const first = app.services.db.queries
    const stats = await demo.json<UserStats>('/api/stats')
    const second = app.services.db.queries
    expect(await demo.json('/api/stats')).toEqual(stats)
    expect(second - first).toBe(3)
    expect(app.services.db.queries - second).toBe(3)
    expect(stats).toEqual(await app.services.queries.stats(1))
    expect(app.services.cache.stats().hits).toBe(0)
  })
})

describe.skipIf(!redisAvailable())(
  'resilience: Redis out, the SQL fallback serves; nothing stale when it is back',
  () => {
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
  },
)

describe.skipIf(!redisAvailable() || !pgUrl)('two app processes on one Redis and one PostgreSQL', () => {
  const schema = `refapp_${randomBytes(4).toString('hex')}`
  const dir = mkdtempSync(join(tmpdir(), 'refapp-2p-'))
  let redis: RedisServer
  let a: AppProcess
  let b: AppProcess
  beforeAll(async () => {
    redis = await startRedis()
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: pgUrl!,
      DATABASE_SCHEMA: schema,
      APP_DATA_DIR: dir,
      APP_DATA_SIZE: 'small',
      CACHE_L1: 'true',
      CACHE_VERSION: '7',
      CACHE_FALLBACK_URL: `sqlite:${join(dir, 'fallback.db')}`,
      THROTTLE_LOGIN: '1000/min',
    }
    a = await spawnApp(env) // migrates and seeds the schema
    b = await spawnApp(env)
  }, 180_000)
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await redis?.stop()
    const pool = new pg.Pool({ connectionString: pgUrl })
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await pool.end()
    rmSync(dir, { recursive: true, force: true })
  })

  it('shares sessions: a login on one process is valid on the other', async () => {
    const onA = await login(a.url)
    const onB = client(b.url)
    onB.cookie = onA.cookie
    expect(await onB.json('/api/me')).toMatchObject({ username: 'demo' })
  })

  it('invalidates on every process: a write on A is seen by the next read on B', async () => {
    const onA = await login(a.url)
    const onB = client(b.url)
    onB.cookie = onA.cookie
    const stats = await onB.json<UserStats>('/api/stats') // now cached (Redis and B's L1)
    const accounts = await onB.json<Account[]>('/api/accounts')
    const response = await onA.post('/api/transactions', {
      accountId: accounts[0]!.id,
      categoryId: 25,
      type: 'expense',
      amount: 1000,
    })
    expect(response.status).toBe(201)
    const month = new Date().toISOString().slice(0, 7)
    const count = (s: UserStats) => s.months.find((m) => m.month === month)!.count
    // The bus message reaches B within milliseconds; poll briefly rather than sleep.
    await waitFor(async () => count(await onB.json<UserStats>('/api/stats')) === count(stats) + 1, 5000)
    expect((await onB.json<Account[]>('/api/accounts'))[0]!.balance).toBe(accounts[0]!.balance - 1000)
    expect(redis.cli('EXISTS', 'hlvm:v7:user_accounts:1:my')).toBe('1') // prefix and version
  })

  it('shares lockouts: 5 failures on A lock the user on B', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await client(a.url).post('/api/login', { username: 'user04', password: 'wrong' })).status).toBe(
        401,
      )
    }
    expect((await client(b.url).post('/api/login', { username: 'user04', password: 'demo' })).status).toBe(
      429,
    )
  })

  it('pushes a transfer made on A to a page open on B', async () => {
    const onA = await login(a.url)
    const controller = new AbortController()
    const stream = await fetch(`${b.url}/events/balances`, {
      headers: { cookie: onA.cookie },
      signal: controller.signal,
    })
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
        if (done) return
        text += new TextDecoder().decode(value)
      }
    })()
    const accounts = await onA.json<Account[]>('/api/accounts')
    await waitFor(async () => {
      if (text.includes('"reason":"transfer"')) return true
      await onA.post('/api/transfers', { from: accounts[0]!.id, to: accounts[1]!.id, amount: 1 })
      await new Promise((resolve) => setTimeout(resolve, 200))
      return text.includes('"reason":"transfer"')
    }, 10_000)
    controller.abort()
  })
})

describe.skipIf(!myUrl)('the app on MariaDB', () => {
  const database = `refapp_${randomBytes(4).toString('hex')}`
  let app: TestApp
  let pool: mysql.Pool
  beforeAll(async () => {
    pool = mysql.createPool({ uri: myUrl! })
    await pool.query(`CREATE DATABASE ${database}`)
    const url = new URL(myUrl!)
    url.pathname = `/${database}`
    app = await startTestApp({ DATABASE_URL: url.toString(), THROTTLE_LOGIN: '1000/min' })
  }, 120_000)
  afterAll(async () => {
    await app?.close()
    await pool.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {})
    await pool.end()
  })

  it('serves cached statistics that follow writes', async () => {
    const demo = await login(app.url)
    const stats = await demo.json<UserStats>('/api/stats')
    expect(stats).toEqual(await app.services.queries.stats(1))
    const [account] = await app.services.queries.accounts(1)
    const response = await demo.post('/api/transactions', {
      accountId: account!.id,
      categoryId: 25,
      type: 'expense',
      amount: 1500,
    })
    expect(response.status).toBe(201)
    expect(await demo.json('/api/stats')).toEqual(await app.services.queries.stats(1))
    const [a, b] = await app.services.queries.accounts(1)
    expect((await demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 10 })).status).toBe(200)
  })
})
