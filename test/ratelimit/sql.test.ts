import { spawn } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRateLimiter, type RuleSet } from '../../src/ratelimit/index.js'
import { BACKING, type StateAccess } from '../../src/stores/index.js'
import { type SqlStore, sqlStore } from '../../src/stores/sql/index.js'
import { mysqlUrl, postgresUrl, tempDir, uniqueTable } from '../support/sql-servers.js'
import { type Target, targets } from '../support/sql-targets.js'

const all = await targets()
const pgUrl = await postgresUrl()
const myUrl = await mysqlUrl()
const sqliteDir = tempDir()
afterAll(() => sqliteDir.remove())

const stateOf = (store: SqlStore): StateAccess => {
  const backing = store[BACKING]()
  if (backing.kind !== 'sql') throw new Error('not a SQL backing')
  return backing.state
}

describe.each(all.map((target) => [target.name, target] as const))(
  'rate limits in %s',
  (_, target: Target) => {
    const table = uniqueTable()
    let store: SqlStore
    beforeAll(() => {
      store = target.store({ table })
    })
    afterAll(async () => {
      await store.close()
      await target.drop(table)
    })

    const limiter = <S extends string>(rules: { readonly [K in S]: RuleSet }) =>
      createRateLimiter({ store, rules, onFailure: 'closed', timeout: 5000 })

    it('counts, refuses, resets; a second limiter on the store shares the count', async () => {
      const a = limiter({ login: '3/min' })
      const b = limiter({ login: '3/min' })
      expect((await a.consume('login', 'k1')).remaining).toBe(2)
      expect((await b.consume('login', 'k1')).remaining).toBe(1)
      expect((await a.consume('login', 'k1')).allowed).toBe(true)
      const refused = await b.consume('login', 'k1')
      expect(refused).toMatchObject({ allowed: false, remaining: 0 })
      expect(refused.retryAfterMs).toBeGreaterThan(0)
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000)
      expect((await a.peek('login', 'k1')).remaining).toBe(0)
      await b.reset('login', 'k1')
      expect((await a.peek('login', 'k1')).remaining).toBe(3)
      expect(a.stats()).toMatchObject({ degraded: 0, errors: 0 })
    })

    it('several policies and algorithms in one transaction: a refusal by one spends nothing on the others', async () => {
      for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const) {
        const l = createRateLimiter({
          store,
          rules: {
            api: [
              { limit: 2, window: '1s', algorithm },
              { limit: 5, window: '1m', algorithm },
            ],
          },
          onFailure: 'closed',
          timeout: 5000,
        })
        const key = `multi-${algorithm}`
        expect((await l.consume('api', key)).allowed).toBe(true)
        expect((await l.consume('api', key)).allowed).toBe(true)
        const third = await l.consume('api', key)
        expect(third.allowed).toBe(false)
        expect(third.policies.map((p) => p.allowed)).toEqual([false, true])
        expect(third.policies[1]?.remaining).toBe(3)
      }
    })

    it('reward, penalty, block and blockFor behave as in memory', async () => {
      const l = limiter({ s: '4/min', guarded: { limit: 1, window: '1m', blockFor: '10m' } })
      await l.consume('s', 'rp')
      await l.consume('s', 'rp')
      await l.reward('s', 'rp', 1)
      expect((await l.peek('s', 'rp')).remaining).toBe(3)
      await l.penalty('s', 'rp', 3)
      expect((await l.consume('s', 'rp')).allowed).toBe(false)
      await l.block('s', 'other', '5m')
      const blocked = await l.consume('s', 'other')
      expect(blocked.allowed).toBe(false)
      expect(blocked.retryAfterMs).toBeGreaterThan(290_000)
      await l.reset('s', 'other')
      expect((await l.consume('s', 'other')).allowed).toBe(true)
      expect((await l.consume('guarded', 'g')).allowed).toBe(true)
      const refused = await l.consume('guarded', 'g')
      expect(refused.allowed).toBe(false)
      expect(refused.retryAfterMs).toBeGreaterThan(590_000) // blockFor: 10 minutes
    })

    it('keys longer than the key column are hashed, not refused', async () => {
      const l = limiter({ s: '1/min' })
      const key = 'é'.repeat(1000)
      expect((await l.consume('s', key)).allowed).toBe(true)
      expect((await l.consume('s', key)).allowed).toBe(false)
      expect((await l.consume('s', `${key}x`)).allowed).toBe(true)
    })

    it('expired rows are treated as empty and pruned by the database clock', async () => {
      const l = limiter({ s: '1/s' })
      await l.consume('s', 'short')
      await new Promise((resolve) => setTimeout(resolve, 1100))
      expect((await l.consume('s', 'short')).allowed).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const prune = (stateOf(store) as unknown as { prune(): Promise<number> }).prune()
      expect(await prune).toBeGreaterThanOrEqual(1)
      const rows = await target.raw(
        `SELECT state_key FROM ${target.quote(`${table}_rate`)} WHERE state_key LIKE ?`,
        ['%short%'],
      )
      expect(rows).toEqual([])
    })

    it('the state table comes with migrate(), and is made again if dropped', async () => {
      const own = uniqueTable()
      const manual = target.store({ table: own, autoMigrate: false })
      const l = createRateLimiter({
        store: manual,
        rules: { s: '2/min' },
        onFailure: 'closed',
        timeout: 5000,
      })
      expect(await l.consume('s', 'm')).toMatchObject({ allowed: false, degraded: 'closed' }) // no table
      await manual.migrate()
      await new Promise((resolve) => setTimeout(resolve, 1100)) // past retryAfterFailure
      const after = await l.consume('s', 'm')
      expect([after.allowed, after.degraded ?? 'no']).toEqual([true, 'no'])
      await manual.close()
      const auto = target.store({ table: own })
      const l2 = createRateLimiter({ store: auto, rules: { s: '2/min' }, onFailure: 'closed', timeout: 5000 })
      expect((await l2.consume('s', 'm')).remaining).toBe(0)
      await target.raw(`DROP TABLE ${target.quote(`${own}_rate`)}`)
      const again = await l2.consume('s', 'm')
      expect([again.allowed, again.remaining, again.degraded ?? 'no']).toEqual([true, 1, 'no'])
      await auto.close()
      await target.drop(own)
    })

    it(`round trips per decision (${target.name})`, async () => {
      const l = limiter({ s: '100/min' })
      await l.consume('s', 'trips') // creates the row
      const before = l.roundTrips
      await l.consume('s', 'trips')
      const perDecision = l.roundTrips - before
      // BEGIN, lock+read, write, COMMIT on PostgreSQL; BEGIN, lock, read, write, COMMIT on MySQL;
      // none over a network on SQLite (in process).
      expect(perDecision).toBe({ postgres: 4, mysql: 5, sqlite: 0 }[target.name])
    })
  },
)

/** The databases for the cross-process test: where each consumer process connects. */
const servers: [string, 'postgres' | 'mysql' | 'sqlite', () => string][] = [
  ['sqlite', 'sqlite', () => join(sqliteDir.dir, 'xproc.db')],
  ...(pgUrl ? [['postgres', 'postgres', () => pgUrl] as [string, 'postgres', () => string]] : []),
  ...(myUrl ? [['mysql', 'mysql', () => myUrl] as [string, 'mysql', () => string]] : []),
]

describe.each(servers)('exact across processes on %s', (_, dialect, where) => {
  const table = uniqueTable()
  const migrated = sqlStore(
    dialect === 'sqlite' ? { dialect, filename: where(), table } : { dialect, url: where(), table },
  )
  afterAll(async () => {
    await migrated.close()
    const target = all.find((t) => t.name === dialect)
    if (dialect !== 'sqlite') await target?.drop(table)
  })

  it.each(['together', 'spread'])(
    '8 processes x 100 concurrent consumers (%s) -> allowed == limit',
    async (spread) => {
      await migrated.migrate() // the tables exist before the processes race
      const child = fileURLToPath(new URL('../support/fixtures/ratelimit-sql-consumer.ts', import.meta.url))
      const key = `xproc-${spread}-${Date.now()}`
      const run = () =>
        new Promise<[number, number]>((resolve, reject) => {
          const proc = spawn(
            process.execPath,
            ['--import', 'tsx', child, dialect, where(), table, key, '100', spread],
            {
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          )
          let out = ''
          let err = ''
          proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
          proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
          const timer = setTimeout(() => proc.kill('SIGKILL'), 100_000)
          proc.on('exit', (code) => {
            clearTimeout(timer)
            const [allowed, trips] = out.trim().split(' ').map(Number)
            if (code === 0) resolve([allowed as number, trips as number])
            else reject(new Error(`consumer exited ${code}: ${err}`))
          })
        })
      const counts = await Promise.all(Array.from({ length: 8 }, run))
      expect(counts.reduce((a, [allowed]) => a + allowed, 0)).toBe(137)
      const trips = counts.reduce((a, [, t]) => a + t, 0)
      console.info(`[sql rate limit] ${dialect} (${spread}): ${trips} round trips for 800 decisions`)
    },
    120_000,
  )
})

describe('a database that is down or hangs', () => {
  let hung: net.Server
  let hungPort = 0
  const sockets = new Set<net.Socket>()
  beforeAll(async () => {
    hung = net.createServer((socket) => {
      sockets.add(socket) // accepts, never answers
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
    hungPort = (hung.address() as net.AddressInfo).port
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => hung.close(resolve))
  })

  for (const dialect of ['postgres', 'mysql'] as const) {
    it(`${dialect}: a hung server -> the failure policy within the deadline, typed error to onError`, async () => {
      const store = sqlStore({
        dialect,
        url: `${dialect}://u:secret@127.0.0.1:${hungPort}/test`,
        timeout: 300,
        connectTimeout: 300,
        table: uniqueTable(),
      })
      const errors: unknown[] = []
      const l = createRateLimiter({
        store,
        rules: { s: '5/min' },
        onFailure: 'closed',
        timeout: 400,
        onError: (e) => errors.push(e),
      })
      const started = Date.now()
      const result = await l.consume('s', 'k')
      expect(Date.now() - started).toBeLessThan(1500)
      expect(result).toMatchObject({ allowed: false, degraded: 'closed' })
      expect(errors[0]).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      expect(String((errors[0] as Error).message)).not.toContain('secret')
      const local = createRateLimiter({ store, rules: { s: '1/min' }, timeout: 400 }) // onFailure 'local'
      expect(await local.consume('s', 'k')).toMatchObject({ allowed: true, degraded: 'local' })
      expect(await local.consume('s', 'k')).toMatchObject({ allowed: false, degraded: 'local' })
      await store.close()
    })

    it(`${dialect}: a server that is down -> insurance limiter decides`, async () => {
      const store = sqlStore({
        dialect,
        url: `${dialect}://u@127.0.0.1:1/test`,
        timeout: 300,
        table: uniqueTable(),
      })
      const insurance = createRateLimiter({ rules: { s: '2/min' } })
      const l = createRateLimiter({ store, rules: { s: '2/min' }, insurance, timeout: 400 })
      const result = await l.consume('s', 'k')
      expect(result).toMatchObject({ allowed: true, degraded: 'insurance' })
      expect(l.stats()).toMatchObject({ insuranceDecisions: 1, errors: 1 })
      await store.close()
    })
  }
})
