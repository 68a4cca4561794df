import { describe, expect, it } from 'vitest'
import { createRateLimiter, type ScriptRunner } from '../../src/ratelimit/index.js'
import { useRedisServer, useRedisStore } from '../support/redis.js'

/** A store that always fails, as a dead Redis does. */
const dead: ScriptRunner = { run: () => Promise.reject(new Error('connection refused')) }
const quiet = { onLog: () => {}, onError: () => {} }

describe('insurance limiter', () => {
  const server = useRedisServer()
  const store = useRedisStore(server, { timeout: 100 })

  it('decides while the Redis store is paused, then Redis decides again', async () => {
    const insurance = createRateLimiter({ rules: { api: '3/min' } })
    const limiter = createRateLimiter({
      ...quiet,
      store: store(),
      prefix: `insured-${Date.now()}`,
      rules: { api: '10/min' },
      timeout: 150,
      retryAfterFailure: 100,
      insurance,
    })
    expect((await limiter.consume('api', 'k')).degraded).toBeUndefined()
    server.pause()
    try {
      const results = []
      for (let i = 0; i < 5; i++) results.push(await limiter.consume('api', 'k'))
      expect(results.every((r) => r.degraded === 'insurance')).toBe(true)
      // The insurance limiter's rule (3/min) decides, not the store's (10/min) nor a local copy.
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false])
      expect(results[0]).toMatchObject({ limit: 3, remaining: 2 })
      const peeked = await limiter.peek('api', 'k')
      expect(peeked).toMatchObject({ degraded: 'insurance', allowed: false })
      expect(limiter.stats()).toMatchObject({ degraded: 6, insuranceDecisions: 6, localDecisions: 0 })
      expect(insurance.stats().decisions).toBe(6)
    } finally {
      server.resume()
    }
    let back = await limiter.consume('api', 'k')
    for (let i = 0; i < 100 && back.degraded; i++) {
      await new Promise((r) => setTimeout(r, 100))
      back = await limiter.consume('api', 'k')
    }
    expect(back).toMatchObject({ allowed: true, limit: 10 })
    expect(back.degraded).toBeUndefined()
    await Promise.all([limiter.close(), insurance.close()])
  })

  it('an insurance limiter that fails too hands over to onFailure', async () => {
    const insurance = createRateLimiter({ rules: { api: '3/min' } })
    await insurance.close()
    const errors: unknown[] = []
    const limiter = createRateLimiter({
      ...quiet,
      store: dead,
      rules: { api: '10/min' },
      onFailure: 'closed',
      onError: (e) => errors.push(e),
      insurance,
    })
    expect(await limiter.consume('api', 'k')).toMatchObject({ allowed: false, degraded: 'closed' })
    expect(errors.map((e) => (e as { code?: string }).code)).toContain('E_CACHE_CLOSED')
    expect(limiter.stats()).toMatchObject({ insuranceDecisions: 1, errors: 2 })
  })

  it('without insurance the failure policy stays the default (local)', async () => {
    const limiter = createRateLimiter({ ...quiet, store: dead, rules: { api: '1/min' } })
    expect(await limiter.consume('api', 'k')).toMatchObject({ allowed: true, degraded: 'local' })
    expect(await limiter.consume('api', 'k')).toMatchObject({ allowed: false, degraded: 'local' })
    expect(limiter.stats()).toMatchObject({ localDecisions: 2, insuranceDecisions: 0 })
  })

  it('checks the insurance limiter when the limiter is created', () => {
    const other = createRateLimiter({ rules: { login: '5/min' } })
    expect(() => createRateLimiter({ rules: { api: '1/s' }, insurance: other as never })).toThrow(
      /insurance has no rules for "api"/,
    )
    expect(() => createRateLimiter({ rules: { api: '1/s' }, insurance: {} as never })).toThrow(
      /insurance must be a rate limiter/,
    )
  })
})
