import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import {
  createLoginGuard,
  createOneTimeCodes,
  createRateLimiter,
  type RuleObject,
} from '../../src/ratelimit/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { hasRedis, useRedis } from '../support/ratelimit.js'

const BAD_MS = [1.5, 0.25, Number.NaN, Number.POSITIVE_INFINITY, -1, 2 ** 31 * 1000, 1e20]

describe('rule values are checked at creation', () => {
  it.each(BAD_MS)('window %s: a typed error, not a failing Redis decision later', (window) => {
    expect(() => createRateLimiter({ rules: { x: { limit: 5, window } } })).toThrow(InvalidOptionError)
    expect(() => createRateLimiter({ rules: { x: { limit: 5, window } } })).toThrow(
      /whole number of milliseconds/,
    )
    expect(() => createRateLimiter({ rules: { x: { limit: 5, window: 0 } } })).toThrow(InvalidOptionError)
  })

  it.each(BAD_MS)('blockFor %s', (blockFor) => {
    expect(() => createRateLimiter({ rules: { x: { limit: 5, window: '1m', blockFor } } })).toThrow(
      InvalidOptionError,
    )
  })

  it('whole milliseconds and duration strings pass; strings become whole milliseconds', () => {
    const limiter = createRateLimiter({
      rules: { a: { limit: 5, window: 1500, blockFor: 0 }, b: { limit: 5, window: '1.5s', blockFor: '2m' } },
    })
    expect(limiter.policies('a')[0]).toMatchObject({ windowMs: 1500, blockMs: 0 })
    expect(limiter.policies('b')[0]).toMatchObject({ windowMs: 1500, blockMs: 120_000 })
    expect(() => createRateLimiter({ rules: { x: '1/400d' } })).toThrow(InvalidOptionError)
  })

  it('timeouts used with timers: whole, finite, below 2^31 ms', () => {
    for (const bad of [1.5, -1, 2 ** 31, Number.POSITIVE_INFINITY, 'soon']) {
      const value = bad as number
      expect(() => createRateLimiter({ rules: { x: '1/s' }, timeout: value })).toThrow(InvalidOptionError)
      expect(() => createRateLimiter({ rules: { x: '1/s' }, connectTimeout: value })).toThrow(
        InvalidOptionError,
      )
      expect(() => createLoginGuard({ timeout: value })).toThrow(InvalidOptionError)
      expect(() => createOneTimeCodes({ secret: 'x'.repeat(32), timeout: value })).toThrow(InvalidOptionError)
    }
  })

  it('stored durations (cool-off, reservation, code TTL): whole, finite, at most 366 days', () => {
    for (const bad of [1.5, -1, 1e12, Number.POSITIVE_INFINITY, 'soon']) {
      const value = bad as number
      expect(() => createLoginGuard({ coolOff: value })).toThrow(InvalidOptionError)
      expect(() => createLoginGuard({ reservation: value })).toThrow(InvalidOptionError)
      expect(() => createLoginGuard({ tiers: [{ failures: 2, coolOff: value }] })).toThrow(InvalidOptionError)
      expect(() => createOneTimeCodes({ secret: 'x'.repeat(32), ttl: value })).toThrow(InvalidOptionError)
    }
    expect(() => createLoginGuard({ coolOff: 2 ** 31 })).not.toThrow()
  })
})

describe.skipIf(!hasRedis)('on Redis, every accepted rule decides in Redis (never silently local)', () => {
  const redis = useRedis()
  let store: RedisStore
  beforeAll(() => {
    store = redisStore({ url: redis.server().url })
  })
  afterAll(async () => {
    await store.close()
  })

  it('odd but valid windows and blocks, every algorithm', async () => {
    const rules: Record<string, RuleObject> = {}
    for (const algorithm of ['gcra', 'sliding-window', 'fixed-window', 'token-bucket'] as const) {
      rules[`${algorithm}-odd`] = { limit: 3, window: 1001, blockFor: '1.5s', algorithm }
      rules[`${algorithm}-string`] = { limit: 7, window: '1.25s', algorithm }
      rules[`${algorithm}-long`] = { limit: 1, window: '366d', algorithm }
    }
    const limiter = createRateLimiter({ store, rules, prefix: `values-${process.pid}`, onFailure: 'closed' })
    for (const scope of limiter.scopes) {
      for (let i = 0; i < 4; i++) {
        const result = await limiter.consume(scope, 'k')
        expect(result.degraded, scope).toBeUndefined()
      }
    }
    expect(limiter.stats()).toMatchObject({ degraded: 0, errors: 0, localDecisions: 0 })
    await limiter.close()
  })
})
