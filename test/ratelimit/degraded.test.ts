import diagnostics from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheClosedError } from '../../src/errors.js'
import { DEGRADED_CHANNEL, type DegradedEvent } from '../../src/observe/channels.js'
import { type BurstLogEvent, createOneTimeCodes, createRateLimiter } from '../../src/ratelimit/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { hasRedis } from '../support/ratelimit.js'
import { useRedisServer } from '../support/redis.js'

describe.skipIf(!hasRedis)('every local decision is counted, published and logged once per burst', () => {
  const server = useRedisServer()
  let store: RedisStore
  beforeAll(async () => {
    store = redisStore({ url: server.url, onLog: () => {} })
  })
  afterAll(async () => {
    await store.close()
  })

  it('Redis killed: 30 local decisions, stats say so, 30 events, one warning; one info on recovery', async () => {
    const events: DegradedEvent[] = []
    const listen = (e: unknown) => events.push(e as DegradedEvent)
    const logs: BurstLogEvent[] = []
    const limiter = createRateLimiter({
      store,
      rules: { s: '5/min' },
      prefix: `degraded-${Date.now()}`,
      retryAfterFailure: 200,
      onLog: (e) => logs.push(e),
    })
    expect((await limiter.consume('s', 'k')).degraded).toBeUndefined()
    diagnostics.subscribe(DEGRADED_CHANNEL, listen)
    try {
      await server.kill()
      const results = []
      for (let i = 0; i < 30; i++) results.push(await limiter.consume('s', 'k'))
      expect(results.every((r) => r.degraded === 'local')).toBe(true)
      // In-process limits still hold meanwhile.
      expect(results.filter((r) => r.allowed)).toHaveLength(5)
      const stats = limiter.stats()
      expect(stats).toMatchObject({ decisions: 31, degraded: 30, localDecisions: 30 })
      expect(stats.errors).toBeGreaterThanOrEqual(1)
      const mine = events.filter((e) => e.source === 'ratelimit')
      expect(mine).toHaveLength(30)
      expect(mine.every((e) => e.kind === 'local-decision' && e.operation === 'consume')).toBe(true)
      expect(logs).toHaveLength(1)
      expect(logs[0]!.level).toBe('warn')

      await server.restart()
      let back = await limiter.consume('s', 'k2')
      for (let i = 0; i < 100 && back.degraded; i++) {
        await new Promise((r) => setTimeout(r, 100))
        back = await limiter.consume('s', 'k2')
      }
      expect(back.degraded).toBeUndefined()
      expect(logs.map((l) => l.level)).toEqual(['warn', 'info'])
      expect(logs[1]!.message).toMatch(/answers again after \d+ decisions/)
    } finally {
      diagnostics.unsubscribe(DEGRADED_CHANNEL, listen)
      await limiter.close()
    }
  }, 30_000)

  it('after close, limiter and one-time codes reject with CacheClosedError; close is idempotent and quick', async () => {
    const limiter = createRateLimiter({ store, rules: { s: '5/min' } })
    const codes = createOneTimeCodes({ store, secret: 'a-secret-of-sixteen-bytes+' })
    const started = performance.now()
    await Promise.all([limiter.close(), limiter.close(), codes.close()])
    expect(performance.now() - started).toBeLessThan(2000)
    await expect(limiter.consume('s', 'k')).rejects.toBeInstanceOf(CacheClosedError)
    await expect(limiter.reset('s', 'k')).rejects.toBeInstanceOf(CacheClosedError)
    await expect(codes.issue('x')).rejects.toBeInstanceOf(CacheClosedError)
  })
})
