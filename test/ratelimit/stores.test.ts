import { afterEach, describe, expect, it } from 'vitest'
import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { createLoginGuard, createOneTimeCodes, createRateLimiter } from '../../src/ratelimit/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { waitFor } from '../support/processes.js'
import { hasRedis, useRedis } from '../support/ratelimit.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** "store is a memory or Redis store (or a cache built on one)". */
describe('request protection on a cache', () => {
  const caches: Cache[] = []
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.close()
  })

  it('a cache over the memory store keeps the limits in that store', async () => {
    const store = memoryStore()
    const cache = createCache({ store, prefix: 'app' })
    caches.push(cache)
    const limiter = createRateLimiter({ store: cache, rules: { login: '2/min' } })
    expect((await limiter.consume('login', 'ip-1')).allowed).toBe(true)
    expect((await limiter.consume('login', 'ip-1')).allowed).toBe(true)
    expect((await limiter.consume('login', 'ip-1')).allowed).toBe(false)
    // A second limiter on the same store sees the same state.
    const again = createRateLimiter({ store, rules: { login: '2/min' } })
    expect((await again.peek('login', 'ip-1')).remaining).toBe(0)
    const otp = createOneTimeCodes({ store: cache, ttl: '5m', secret: 'test-secret-of-at-least-16-bytes' })
    const code = await otp.issue('user:1')
    expect(await otp.verify('user:1', code)).toBe(true)
    const guard = createLoginGuard({ store: cache, failureLimit: 1, coolOff: '1m' })
    expect((await guard.check({ username: 'ada', ip: '10.0.0.1' })).locked).toBe(false)
  })

  describe.skipIf(!hasRedis)('on Redis', () => {
    const redis = useRedis()

    it('limiters of two instances with tiered caches share the limit through Redis', async () => {
      const instance = () => {
        const cache = createCache({
          tiers: [memoryStore(), redisStore({ url: redis.server().url })],
          prefix: 'app',
        })
        caches.push(cache)
        return createRateLimiter({ store: cache, rules: { api: '3/min' } })
      }
      const [a, b] = [instance(), instance()]
      const results = [
        await a.consume('api', 'user-1'),
        await b.consume('api', 'user-1'),
        await a.consume('api', 'user-1'),
        await b.consume('api', 'user-1'),
      ]
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false])
    })

    it('a refusal one instance cached answers for the others too, and a reset clears it everywhere', async () => {
      const stores = [redisStore({ url: redis.server().url }), redisStore({ url: redis.server().url })]
      const [a, b] = stores.map((store) => {
        caches.push(createCache({ store })) // closes the store after the test
        return createRateLimiter({ store, rules: { login: { limit: 2, window: '1m', blockFor: '10m' } } })
      }) as [ReturnType<typeof createRateLimiter<'login'>>, ReturnType<typeof createRateLimiter<'login'>>]
      await sleep(100) // both subscribed
      await a.consume('login', 'ip-9')
      await a.consume('login', 'ip-9')
      expect((await a.consume('login', 'ip-9')).allowed).toBe(false) // blocked for 10 minutes
      await waitFor(async () => {
        const before = b.roundTrips
        const refused = await b.consume('login', 'ip-9')
        return !refused.allowed && b.roundTrips === before // answered from b's deny cache
      }, 2000)
      await a.reset('login', 'ip-9')
      await waitFor(async () => {
        const before = b.roundTrips
        const result = await b.consume('login', 'ip-9')
        return result.allowed && b.roundTrips === before + 1
      }, 2000)
    })
  })
})
