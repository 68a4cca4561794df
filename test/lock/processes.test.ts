import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createLocks } from '../../src/lock/index.js'
import { redisAvailable, useRedisServer, useRedisStore } from '../support/redis.js'
import { findPostgresUrl, uniqueTable } from '../support/sql-servers.js'
import { startWorker, type Worker } from '../support/worker-process.js'

const WORKER = fileURLToPath(new URL('../support/fixtures/lock-worker.ts', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts the worker fixture and waits for its `ready` event; killed after `limit` ms whatever happens. */
function worker(args: string[], limit = 150_000): Promise<Worker> {
  return startWorker(WORKER, args, { limit, cwd: root })
}

describe.skipIf(!redisAvailable())('locks across processes', () => {
  const server = useRedisServer()
  const store = useRedisStore(server, { timeout: 2000 })

  it('8 processes x 50 contenders: a non-atomic GET+SET under the lock counts exactly; tokens strictly increase', async () => {
    const prefix = 'count:'
    const workers = await Promise.all(
      Array.from({ length: 8 }, () => worker(['count', server.url, prefix, '50'])),
    )
    for (const w of workers) w.proc.stdin.write('go\n')
    const results = await Promise.all(workers.map((w) => w.next('done')))
    await Promise.all(workers.map((w) => w.exited))
    for (const result of results) expect(result['missing'], String(result['errors'])).toBeUndefined()
    expect(server.cli('GET', `${prefix}count`)).toBe('400')
    expect(results.reduce((n, r) => n + (r['violations'] as number), 0)).toBe(0)
    const tokens = results.flatMap((r) => r['tokens'] as number[])
    expect(new Set(tokens).size).toBe(400)
    // Each process saw its own tokens in increasing order too.
    for (const r of results) {
      const own = r['tokens'] as number[]
      expect(own).toEqual([...own].sort((a, b) => a - b))
    }
  }, 180_000)

  it('a holder killed with SIGKILL frees the lock within its TTL', async () => {
    const ttl = 1500
    const holder = await worker(['hold', server.url, 'killed:', String(ttl)])
    const locks = createLocks({ store: store(), prefix: 'killed:' })
    expect(await locks.tryLock('fenced')).toBeUndefined()
    holder.proc.kill('SIGKILL')
    const killedAt = performance.now()
    await holder.exited
    const next = await locks.lock('fenced', { wait: ttl * 3 })
    const waited = performance.now() - killedAt
    expect(waited).toBeLessThan(ttl + 1000)
    expect(next.token).toBeGreaterThan((await holder.next('ready'))['token'] as number)
    await next.release()
    await locks.close()
  }, 30_000)

  it('a holder frozen (SIGSTOP) past its TTL: its signal aborts on resume and its fenced SQL write is refused', async () => {
    const pgUrl = await findPostgresUrl()
    const table = uniqueTable()
    const pool = new pg.Pool({ connectionString: pgUrl, max: 1 })
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, value text NOT NULL, fence bigint NOT NULL)`)
    try {
      await pool.query(`INSERT INTO ${table} VALUES (1, 'initial', 0)`)
      const ttl = 1000
      const stale = await worker(['hold', server.url, 'frozen:', String(ttl), pgUrl, table])
      const staleToken = (await stale.next('ready'))['token'] as number
      stale.proc.kill('SIGSTOP')
      try {
        const locks = createLocks({ store: store(), prefix: 'frozen:' })
        const fresh = await locks.lock('fenced', { ttl: 10_000, wait: 10_000 })
        expect(fresh.token).toBeGreaterThan(staleToken)
        const write = await pool.query(
          `UPDATE ${table} SET value = 'fresh', fence = $1 WHERE id = 1 AND fence < $1`,
          [fresh.token],
        )
        expect(write.rowCount).toBe(1)
        await sleep(300)
        stale.proc.kill('SIGCONT')
        stale.proc.stdin.write('go\n')
        const result = await stale.next('result')
        expect(result).toMatchObject({ aborted: true, code: 'E_LOCK_LOST', rows: 0 })
        await stale.exited
        expect((await pool.query(`SELECT value, fence FROM ${table}`)).rows[0]).toEqual({
          value: 'fresh',
          fence: String(fresh.token),
        })
        // The stale holder's release did not free the fresh holder's lock.
        expect(await locks.tryLock('fenced')).toBeUndefined()
        await fresh.release()
        await locks.close()
      } finally {
        stale.proc.kill('SIGCONT')
        stale.proc.kill('SIGKILL')
      }
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`)
      await pool.end()
    }
  }, 40_000)
})
