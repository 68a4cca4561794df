import { expect, it } from 'vitest'
import { createRateLimiter, type ProtectionStore } from '../../src/ratelimit/index.js'
import type { Algorithm } from '../../src/ratelimit/rules.js'

const ALGORITHMS: readonly Algorithm[] = ['gcra', 'sliding-window', 'fixed-window', 'token-bucket']
let unique = 0
const key = () => `client-${process.pid}-${Date.now()}-${unique++}`

/**
 * Behaviour every backend must show with real time (windows long enough that nothing refills during
 * a test). Run against the memory store and against Redis.
 */
export function rateScenarios(store: () => ProtectionStore): void {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: allows exactly the limit, then refuses with a wait`, async () => {
      const limiter = createRateLimiter({
        store: store(),
        rules: { s: { limit: 5, window: '1h', algorithm } },
      })
      const k = key()
      const results = []
      for (let i = 0; i < 7; i++) results.push(await limiter.consume('s', k))
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false, false])
      expect(results.slice(0, 5).map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0])
      const refused = results[6]!
      expect(refused.retryAfterMs).toBeGreaterThan(0)
      // A sliding window may wait into the next window.
      expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * 3_600_000)
      expect(refused.limit).toBe(5)
      expect(refused.remaining).toBe(0)
    })

    it(`${algorithm}: weighted cost, and a refused consume spends nothing`, async () => {
      const limiter = createRateLimiter({
        store: store(),
        rules: { s: { limit: 10, window: '1h', algorithm } },
      })
      const k = key()
      expect((await limiter.consume('s', k, { cost: 7 })).remaining).toBe(3)
      const refused = await limiter.consume('s', k, { cost: 4 })
      expect(refused.allowed).toBe(false)
      expect(refused.remaining).toBe(3)
      expect((await limiter.consume('s', k, { cost: 3 })).allowed).toBe(true)
      expect((await limiter.consume('s', k)).allowed).toBe(false)
    })

    it(`${algorithm}: peek reports without consuming; reset forgets`, async () => {
      const limiter = createRateLimiter({
        store: store(),
        rules: { s: { limit: 3, window: '1h', algorithm } },
      })
      const k = key()
      expect(await limiter.peek('s', k)).toMatchObject({ allowed: true, remaining: 3 })
      await limiter.consume('s', k, { cost: 2 })
      for (let i = 0; i < 3; i++)
        expect(await limiter.peek('s', k)).toMatchObject({ allowed: true, remaining: 1 })
      expect((await limiter.peek('s', k, { cost: 2 })).allowed).toBe(false)
      await limiter.reset('s', k)
      expect(await limiter.peek('s', k)).toMatchObject({ allowed: true, remaining: 3 })
    })
  }

  it('several policies decide atomically: nothing is spent unless all pass', async () => {
    const limiter = createRateLimiter({
      store: store(),
      rules: {
        api: [
          { limit: 3, window: '1h', name: 'burst' },
          { limit: 100, window: '1d', algorithm: 'fixed-window', name: 'daily' },
        ],
      },
    })
    const k = key()
    for (let i = 0; i < 3; i++) expect((await limiter.consume('api', k)).allowed).toBe(true)
    const refused = await limiter.consume('api', k)
    expect(refused.allowed).toBe(false)
    expect(refused.policies.map((p) => [p.name, p.allowed, p.remaining])).toEqual([
      ['burst', false, 0],
      ['daily', true, 97],
    ])
  })

  it('blockFor refuses everything for the block once exhausted', async () => {
    const limiter = createRateLimiter({
      store: store(),
      rules: { login: { limit: 2, window: '1s', blockFor: '1h' } },
      denyCache: false,
    })
    const k = key()
    await limiter.consume('login', k)
    await limiter.consume('login', k)
    const refused = await limiter.consume('login', k)
    expect(refused.allowed).toBe(false)
    expect(refused.retryAfterMs).toBeGreaterThan(3_500_000)
    await new Promise((r) => setTimeout(r, 1100))
    const still = await limiter.consume('login', k)
    expect(still.allowed).toBe(false)
    expect(still.policies[0]!.blocked).toBe(true)
    await limiter.reset('login', k)
    expect((await limiter.consume('login', k)).allowed).toBe(true)
  })

  it('concurrent consumers of one key: allowed == limit exactly', async () => {
    const limiter = createRateLimiter({ store: store(), rules: { s: '25/hour' }, denyCache: false })
    const k = key()
    const results = await Promise.all(Array.from({ length: 200 }, () => limiter.consume('s', k)))
    expect(results.filter((r) => r.allowed)).toHaveLength(25)
  })
}
