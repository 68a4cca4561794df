import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRateLimiter, type ScriptRunner, scriptRunnerFromClient } from '../../src/ratelimit/index.js'
import { hasRedis, useRedis } from '../support/ratelimit.js'
import { rateScenarios } from '../support/ratelimit-scenarios.js'

describe.skipIf(!hasRedis)('rate limiter on Redis', () => {
  const redis = useRedis()
  let runner: ScriptRunner
  beforeAll(async () => {
    runner = scriptRunnerFromClient(await redis.client())
  })

  describe('scenarios', () => {
    rateScenarios(() => runner)
  })

  it('one round trip per decision, several policies and block included', async () => {
    const limiter = createRateLimiter({
      store: runner,
      rules: { api: [{ limit: 2, window: '1h', blockFor: '1m' }, '1000/day'] },
      denyCache: false,
    })
    const before = limiter.roundTrips
    for (let i = 0; i < 4; i++) await limiter.consume('api', 'rt')
    expect(limiter.roundTrips - before).toBe(4)
  })

  it('decisions made in the same tick share script calls, each decided in turn', async () => {
    const limiter = createRateLimiter({
      store: runner,
      rules: { api: [{ limit: 30, window: '1h' }, '1000/day'] },
      denyCache: false,
    })
    const before = limiter.roundTrips
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => limiter.consume('api', `b${i % 2}`)),
    )
    expect(limiter.roundTrips - before).toBeLessThanOrEqual(2)
    for (const key of ['b0', 'b1']) {
      const mine = results.filter((_, i) => `b${i % 2}` === key)
      expect(mine.filter((r) => r.allowed)).toHaveLength(30)
      // In the order asked: the first 30 pass, with remaining counting down; the rest are refused.
      expect(mine.slice(0, 30).map((r) => r.remaining)).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i))
      expect(mine.slice(30).every((r) => !r.allowed)).toBe(true)
    }
  })

  it('the deny cache answers blocked keys without Redis', async () => {
    const limiter = createRateLimiter({ store: runner, rules: { s: '1/hour' } })
    const trips = () => limiter.roundTrips
    await limiter.consume('s', 'dc')
    expect((await limiter.consume('s', 'dc')).allowed).toBe(false)
    const before = trips()
    for (let i = 0; i < 10; i++) expect((await limiter.consume('s', 'dc')).allowed).toBe(false)
    expect(trips()).toBe(before)
    await limiter.reset('s', 'dc')
    expect((await limiter.consume('s', 'dc')).allowed).toBe(true)
  })

  it('keeps working after SCRIPT FLUSH (EVAL on NOSCRIPT)', async () => {
    const limiter = createRateLimiter({ store: runner, rules: { s: '5/hour' } })
    await limiter.consume('s', 'flush')
    redis.server().cli('SCRIPT', 'FLUSH')
    expect(await limiter.consume('s', 'flush')).toMatchObject({ allowed: true, remaining: 3 })
  })

  it('accepts a store that offers scriptRunner()', async () => {
    const store = { scriptRunner: () => runner }
    const limiter = createRateLimiter({ store, rules: { s: '1/hour' } })
    expect((await limiter.consume('s', 'duck')).allowed).toBe(true)
    expect((await limiter.consume('s', 'duck')).allowed).toBe(false)
  })

  it('exact across processes: 8 processes x 100 concurrent consumers -> allowed == limit', async () => {
    const child = fileURLToPath(new URL('../support/fixtures/ratelimit-consumer.ts', import.meta.url))
    const key = `xproc-${Date.now()}`
    const run = () =>
      new Promise<number>((resolve, reject) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', child, redis.server().url, key, '100'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let out = ''
        let err = ''
        proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
        proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
        const timer = setTimeout(() => proc.kill('SIGKILL'), 25_000)
        proc.on('exit', (code) => {
          clearTimeout(timer)
          if (code === 0) resolve(Number(out.trim()))
          else reject(new Error(`consumer exited ${code}: ${err}`))
        })
      })
    const counts = await Promise.all(Array.from({ length: 8 }, run))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(137)
  }, 40_000)
})
