/**
 * Seed 5 at deploy, and seeds 3 and 5 on every Redis topology: `npm run deploy` (cachekit check,
 * then cachekit migrate on the SQL fallback) before the app starts, then the app as a separate
 * process on a `valkey://` URL with compression, a password-protected `rediss://` URL trusted
 * through NODE_EXTRA_CA_CERTS, a `redis+sentinel://` URL and a `redis+cluster://` URL: login,
 * cached statistics that follow a write, and the public page with its ETag.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../test/support/processes.js'
import { type RedisServer, redisAvailable, startRedis } from '../../test/support/redis.js'
import {
  type ClusterSetup,
  type SentinelSetup,
  startCluster,
  startSentinel,
} from '../../test/support/redis-topologies.js'
import { deploy } from '../deploy.js'
import type { Account, UserStats } from '../services/finance.js'
import { type AppProcess, spawnApp } from '../spawn.js'
import { login } from './http.js'

const dir = mkdtempSync(join(tmpdir(), 'refapp-deploy-'))
const base = { APP_DATA_DIR: dir, APP_DATA_SIZE: 'small', THROTTLE_LOGIN: '1000/min' }

/** The app on `env`: deploy first (it must pass), then start it and use it. */
async function deployAndUse(name: string, redis: Record<string, string>): Promise<void> {
  // A SQL fallback of its own per Redis deployment, as in production (one shared by two
  // unrelated Redis deployments would hold the other's outage-era values).
  const env = { ...redis, CACHE_FALLBACK_URL: `sqlite:${join(dir, `fallback-${name}.db`)}` }
  const steps = deploy({ ...base, ...env })
  expect(steps.map((step) => [step.name, step.status])).toEqual([
    ['check', 0],
    ['migrate', 0],
  ])
  expect(steps[0]?.output).toMatch(/read\/write/)
  expect(steps[1]?.output).toMatch(/cachekit_cache/)
  let app: AppProcess | undefined
  try {
    app = await spawnApp({ ...base, ...env })
    const demo = await login(app.url)
    const first = await demo.get('/api/stats')
    const stats = (await first.json()) as UserStats
    const second = await demo.get('/api/stats')
    expect(await second.json()).toEqual(stats)
    expect(second.headers.get('x-cache-hits')).not.toBe('0')
    const accounts = (await (await demo.get('/api/accounts')).json()) as Account[]
    const created = await demo.post('/api/transactions', {
      accountId: accounts[0]!.id,
      categoryId: 25,
      type: 'expense',
      amount: 1234,
    })
    expect(created.status).toBe(201)
    const month = new Date().toISOString().slice(0, 7)
    const count = (s: UserStats) => s.months.find((m) => m.month === month)?.count ?? 0
    expect(count((await (await demo.get('/api/stats')).json()) as UserStats)).toBe(count(stats) + 1)
    const page = await fetch(`${app.url}/public/merchants`)
    expect(page.status).toBe(200)
    const etag = page.headers.get('etag') ?? ''
    expect(etag).not.toBe('')
    const again = await fetch(`${app.url}/public/merchants`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
  } finally {
    await app?.stop()
  }
}

// Registered only where redis-server exists; under CI=true its absence fails the run (check-skips).
if (redisAvailable()) {
  describe('seed 5 at deploy: cachekit check and migrate, then the app on every Redis URL form', () => {
    let standalone: RedisServer
    let tls: RedisServer
    let sentinel: SentinelSetup
    let cluster: ClusterSetup
    beforeAll(async () => {
      ;[standalone, tls, sentinel, cluster] = await Promise.all([
        startRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] }),
        startRedis({ tls: true, password: 'deploy-secret' }),
        startSentinel(),
        startCluster(),
      ])
    }, 180_000)
    afterAll(async () => {
      await Promise.all([standalone?.stop(), tls?.stop(), sentinel?.stop(), cluster?.stop()])
      rmSync(dir, { recursive: true, force: true })
    })

    it('stops the release when the cache server cannot be reached, before migrating anything', async () => {
      const port = await freePort()
      const steps = deploy({ ...base, REDIS_URL: `redis://127.0.0.1:${port}` })
      expect(steps.map((step) => step.name)).toEqual(['check'])
      expect(steps[0]?.status).not.toBe(0)
      expect(steps[0]?.output).toMatch(/connect/)
    })

    it('valkey:// with gzip compression (seeds 3 and 5)', async () => {
      const url = standalone.url.replace(/^redis:/, 'valkey:')
      await deployAndUse('valkey', { REDIS_URL: url, CACHE_COMPRESSION: 'gzip' })
    }, 180_000)

    it('rediss:// with a password, the private CA trusted through NODE_EXTRA_CA_CERTS', async () => {
      const ca = join(dir, 'ca.pem')
      writeFileSync(ca, tls.tls!.ca)
      await deployAndUse('tls', { REDIS_URL: tls.url, NODE_EXTRA_CA_CERTS: ca })
    }, 180_000)

    it('redis+sentinel://', async () => {
      await deployAndUse('sentinel', { REDIS_URL: sentinel.url })
    }, 180_000)

    it('redis+cluster://', async () => {
      await deployAndUse('cluster', { REDIS_URL: cluster.url })
    }, 180_000)
  })
}
