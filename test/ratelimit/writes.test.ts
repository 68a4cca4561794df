import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createRateLimiter,
  type RateLimiter,
  type ScriptRunner,
  scriptRunnerFromClient,
} from '../../src/ratelimit/index.js'
import { ALGORITHMS, type Algorithm } from '../../src/ratelimit/rules.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { waitFor } from '../support/processes.js'
import { hasRedis, useRedis } from '../support/ratelimit.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Op = { readonly kind: 'consume' | 'reward' | 'penalty'; readonly points: number; readonly dt: number }

const opsArb = fc.array(
  fc.record({
    kind: fc.constantFrom('consume', 'consume', 'consume', 'reward', 'penalty') as fc.Arbitrary<Op['kind']>,
    points: fc.integer({ min: 1, max: 3 }),
    dt: fc.integer({ min: 0, max: 400 }),
  }),
  { minLength: 1, maxLength: 50 },
)

const T0 = 1_700_000_000_000

/** Runs `ops` on a memory limiter with an injected clock; the allowed consumes with their times. */
async function run(algorithm: Algorithm, limit: number, windowMs: number, ops: readonly Op[]) {
  let now = T0
  const limiter = createRateLimiter({
    rules: { s: { limit, window: windowMs, algorithm } },
    clock: { now: () => now },
  })
  const allowed: number[] = []
  const rewards: number[] = []
  for (const op of ops) {
    now += op.dt
    if (op.kind === 'reward') {
      await limiter.reward('s', 'k', op.points)
      for (let i = 0; i < op.points; i++) rewards.push(now)
    } else if (op.kind === 'penalty') await limiter.penalty('s', 'k', op.points)
    else if ((await limiter.consume('s', 'k')).allowed) allowed.push(now)
  }
  return { allowed, rewards }
}

const count = (times: readonly number[], from: number, to: number) =>
  times.filter((t) => t >= from && t < to).length

describe('reward and penalty against the model (memory, injected clock)', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: never allows more than the limit plus the rewards within a window`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(2, 3, 5), opsArb, async (limit, ops) => {
          const windowMs = 1000
          const { allowed, rewards } = await run(algorithm, limit, windowMs, ops)
          if (algorithm === 'fixed-window' || algorithm === 'sliding-window') {
            // Per aligned window: the window algorithms count per window.
            for (const t of allowed) {
              const start = t - (t % windowMs)
              const end = start + windowMs
              expect(count(allowed, start, end)).toBeLessThanOrEqual(limit + count(rewards, start, end))
            }
          } else {
            // Any span: a full bucket, what refills during the span, and the rewards in it.
            for (const from of allowed) {
              for (const to of allowed) {
                if (to < from) continue
                const refill = Math.floor(((to - from) * limit) / windowMs + 1e-9)
                expect(count(allowed, from, to + 1)).toBeLessThanOrEqual(
                  limit + refill + count(rewards, from, to + 1),
                )
              }
            }
          }
        }),
        { numRuns: 60 },
      )
    })
  }
})

/** Exact reference models with rewards and penalties, independent of the implementations' formulas. */
interface WriteModel {
  consume(now: number): boolean
  adjust(now: number, points: number): void
}

/** GCRA and the token bucket: tokens refill at the rule's rate; a penalty runs a debt. */
function tokenModel(capacity: number, perMs: number): WriteModel {
  let tokens = capacity
  let at = 0
  const current = (now: number) => Math.min(capacity, tokens + (now - at) * perMs)
  return {
    consume(now) {
      const c = current(now)
      if (c + 1e-9 < 1) return false
      tokens = c - 1
      at = now
      return true
    },
    adjust(now, points) {
      tokens = Math.min(capacity, current(now) - points)
      at = now
    },
  }
}

/** The window algorithms: counts per window; a reward takes from this window, then the previous. */
function windowModel(limit: number, window: number, sliding: boolean): WriteModel {
  const counts = new Map<number, number>()
  return {
    consume(now) {
      const index = Math.floor(now / window)
      const curr = counts.get(index) ?? 0
      const prev = sliding ? (counts.get(index - 1) ?? 0) : 0
      const used = prev * ((window - (now - index * window)) / window) + curr
      if (used + 1 > limit + 1e-9) return false
      counts.set(index, curr + 1)
      return true
    },
    adjust(now, points) {
      const index = Math.floor(now / window)
      const curr = counts.get(index) ?? 0
      if (points >= 0) {
        counts.set(index, curr + points)
        return
      }
      const fromCurr = Math.min(curr, -points)
      counts.set(index, curr - fromCurr)
      if (sliding) counts.set(index - 1, Math.max(0, (counts.get(index - 1) ?? 0) - (-points - fromCurr)))
    },
  }
}

describe('reward and penalty decide exactly like a reference model (memory, injected clock)', () => {
  for (const algorithm of ALGORITHMS) {
    it(algorithm, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(2, 4, 5),
          fc.constantFrom(100, 250),
          opsArb,
          async (limit, interval, ops) => {
            const windowMs = limit * interval // whole milliseconds per request: both sides compute exactly
            let now = T0
            const limiter = createRateLimiter({
              rules: { s: { limit, window: windowMs, algorithm } },
              clock: { now: () => now },
            })
            const model =
              algorithm === 'gcra' || algorithm === 'token-bucket'
                ? tokenModel(limit, limit / windowMs)
                : windowModel(limit, windowMs, algorithm === 'sliding-window')
            for (const op of ops) {
              now += op.dt
              const t = now - T0
              if (op.kind === 'consume')
                expect((await limiter.consume('s', 'k')).allowed).toBe(model.consume(t))
              else {
                await limiter[op.kind]('s', 'k', op.points)
                model.adjust(t, op.kind === 'reward' ? -op.points : op.points)
              }
            }
          },
        ),
        { numRuns: 80 },
      )
    })
  }
})

/** The behaviours both backends must show, run on a limiter built by `make`. */
function contract(make: (algorithm: Algorithm) => RateLimiter<'s'>) {
  for (const algorithm of ALGORITHMS) {
    describe(algorithm, () => {
      it('a reward lets the next request through at once, deny cache included', async () => {
        const limiter = make(algorithm)
        for (let i = 0; i < 5; i++) await limiter.consume('s', 'r')
        expect((await limiter.consume('s', 'r')).allowed).toBe(false)
        expect((await limiter.consume('s', 'r')).allowed).toBe(false)
        await limiter.reward('s', 'r')
        expect((await limiter.consume('s', 'r')).allowed).toBe(true)
        expect((await limiter.consume('s', 'r')).allowed).toBe(false)
        await limiter.close()
      })

      it('a reward never gives more than a whole allowance', async () => {
        const limiter = make(algorithm)
        await limiter.consume('s', 'w')
        await limiter.reward('s', 'w', 50)
        let allowed = 0
        for (let i = 0; i < 8; i++) if ((await limiter.consume('s', 'w')).allowed) allowed++
        expect(allowed).toBe(5)
        await limiter.close()
      })

      it('a penalty may go past the limit: later requests are refused', async () => {
        const limiter = make(algorithm)
        await limiter.consume('s', 'p')
        await limiter.penalty('s', 'p', 9)
        const refused = await limiter.consume('s', 'p')
        expect(refused.allowed).toBe(false)
        expect(refused.remaining).toBe(0)
        // Five rewards pay back the debt only partly: still refused.
        await limiter.reward('s', 'p', 4)
        expect((await limiter.consume('s', 'p')).allowed).toBe(false)
        await limiter.reward('s', 'p', 2)
        expect((await limiter.consume('s', 'p')).allowed).toBe(true)
        await limiter.close()
      })

      it('block refuses every request for its duration; reset lifts it', async () => {
        const limiter = make(algorithm)
        await limiter.block('s', 'b', '10m')
        const refused = await limiter.consume('s', 'b')
        expect(refused.allowed).toBe(false)
        expect(refused.retryAfterMs).toBeGreaterThan(599_000)
        expect(refused.policies[0]!.blocked).toBe(true)
        expect((await limiter.peek('s', 'b')).allowed).toBe(false)
        await limiter.reward('s', 'b', 5)
        expect((await limiter.consume('s', 'b')).allowed).toBe(false)
        expect((await limiter.consume('s', 'other')).allowed).toBe(true)
        await limiter.reset('s', 'b')
        expect((await limiter.consume('s', 'b')).allowed).toBe(true)
        await expect(limiter.block('s', 'b', 0)).rejects.toThrow(/block duration/)
        await limiter.close()
      })

      it('rejects points that are not whole numbers >= 0', async () => {
        const limiter = make(algorithm)
        await expect(limiter.reward('s', 'x', -1)).rejects.toThrow(/whole number/)
        await expect(limiter.penalty('s', 'x', 1.5)).rejects.toThrow(/whole number/)
        await limiter.close()
      })
    })
  }
}

describe('block on the memory store (injected clock)', () => {
  it('ends when its duration has passed', async () => {
    let now = T0
    const limiter = createRateLimiter({ rules: { s: '5/min' }, clock: { now: () => now } })
    await limiter.block('s', 'k', '1s')
    now += 999
    expect((await limiter.consume('s', 'k')).retryAfterMs).toBe(1)
    now += 1
    expect((await limiter.consume('s', 'k')).allowed).toBe(true)
  })
})

describe('reward and penalty on the memory store', () => {
  contract((algorithm) => createRateLimiter({ rules: { s: { limit: 5, window: '1d', algorithm } } }))
})

describe.skipIf(!hasRedis)('reward and penalty on Redis', () => {
  const redis = useRedis()
  let n = 0
  let shared: ScriptRunner | undefined
  const store = () => shared as ScriptRunner
  beforeAll(async () => {
    shared = scriptRunnerFromClient(await redis.client())
  })

  contract((algorithm) =>
    createRateLimiter({
      store: store(),
      prefix: `rp${n++}`,
      rules: { s: { limit: 5, window: '1d', algorithm } },
    }),
  )

  it('a block is seen by every process, from its deny cache; a reset anywhere lifts it', async () => {
    const stores = [redisStore({ url: redis.server().url }), redisStore({ url: redis.server().url })]
    const [a, b] = stores.map((store) =>
      createRateLimiter({ store, prefix: 'shared-block', rules: { s: '5/min' } }),
    ) as [RateLimiter<'s'>, RateLimiter<'s'>]
    try {
      await sleep(100) // both subscribed
      expect((await b.consume('s', 'k')).allowed).toBe(true)
      await a.block('s', 'k', 60_000)
      await waitFor(async () => {
        const before = b.roundTrips
        const refused = await b.consume('s', 'k')
        return !refused.allowed && refused.retryAfterMs > 59_000 && b.roundTrips === before
      }, 2000)
      await b.reset('s', 'k')
      await waitFor(async () => (await a.consume('s', 'k')).allowed, 2000)
    } finally {
      await Promise.all([a.close(), b.close()])
      await Promise.all(stores.map((store) => store.close()))
    }
  })

  it('memory and Redis agree on any sequence of consume, reward and penalty', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ALGORITHMS), opsArb, async (algorithm, ops) => {
        const rules = { s: { limit: 4, window: '1d' as const, algorithm } }
        const memory = createRateLimiter({ rules })
        const onRedis = createRateLimiter({ store: store(), prefix: `agree${n++}`, rules })
        for (const op of ops) {
          if (op.kind === 'consume') {
            const [a, b] = await Promise.all([memory.consume('s', 'k'), onRedis.consume('s', 'k')])
            expect(b.allowed).toBe(a.allowed)
            expect(b.remaining).toBe(a.remaining)
          } else {
            await memory[op.kind]('s', 'k', op.points)
            await onRedis[op.kind]('s', 'k', op.points)
          }
        }
        await onRedis.close()
      }),
      { numRuns: 40 },
    )
  })
})
