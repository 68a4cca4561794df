import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { privateStateMap } from '../../src/ratelimit/backend.js'
import { MemoryRateBackend } from '../../src/ratelimit/memory-backend.js'
import type { Algorithm, Policy } from '../../src/ratelimit/rules.js'

/** Reference models: plain, obviously right, and independent of the implementations' formulas. */
interface Model {
  /** Would `cost` pass at `now`? Applies it when `apply`. Returns remaining after. */
  step(now: number, cost: number, apply: boolean): { allowed: boolean; remaining: number }
}

function tokenModel(capacity: number, perMs: number): Model {
  let tokens = capacity
  let at = 0
  return {
    step(now, cost, apply) {
      const current = Math.min(capacity, tokens + (now - at) * perMs)
      const allowed = current + 1e-9 >= cost
      const after = allowed ? current - cost : current
      if (apply && allowed) {
        tokens = after
        at = now
      }
      return { allowed, remaining: Math.floor(after + 1e-9) }
    },
  }
}

function windowModel(limit: number, window: number, sliding: boolean): Model {
  const counts = new Map<number, number>()
  return {
    step(now, cost, apply) {
      const index = Math.floor(now / window)
      const curr = counts.get(index) ?? 0
      const prev = sliding ? (counts.get(index - 1) ?? 0) : 0
      const used = prev * ((window - (now - index * window)) / window) + curr
      const allowed = used + cost <= limit + 1e-9
      if (apply && allowed) counts.set(index, curr + cost)
      return { allowed, remaining: Math.max(0, Math.floor(limit - used - (allowed ? cost : 0) + 1e-9)) }
    },
  }
}

function modelFor(p: Policy): Model {
  switch (p.algorithm) {
    // GCRA is the token bucket in another bookkeeping: it must decide exactly like one.
    case 'gcra':
    case 'token-bucket':
      return tokenModel(p.burst, p.limit / p.windowMs)
    case 'fixed-window':
      return windowModel(p.limit, p.windowMs, false)
    case 'sliding-window':
      return windowModel(p.limit, p.windowMs, true)
  }
}

const policyArb = (algorithm: Algorithm) =>
  fc
    .record({
      limit: fc.constantFrom(1, 2, 4, 5, 10),
      // Whole milliseconds per request, so both sides compute exactly.
      interval: fc.constantFrom(100, 250, 1000),
      burstFactor: fc.constantFrom(1, 2),
    })
    .map(({ limit, interval, burstFactor }): Policy => {
      const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window'
      return {
        name: 'p',
        algorithm,
        limit,
        windowMs: limit * interval,
        burst: windowed ? limit : limit * burstFactor,
        blockMs: 0,
      }
    })

const opsArb = fc.array(
  fc.record({
    dt: fc.integer({ min: 0, max: 3000 }),
    cost: fc.integer({ min: 0, max: 3 }),
    peek: fc.boolean(),
  }),
  { minLength: 1, maxLength: 60 },
)

describe('algorithms against reference models (memory backend, injected clock)', () => {
  it('sliding-window reports whole requests left under a fractional count (found by the model test)', () => {
    let now = 1_700_000_000_000
    const clock = { now: () => now }
    const backend = new MemoryRateBackend(privateStateMap(clock), clock)
    const policy: Policy = {
      name: 'p',
      algorithm: 'sliding-window',
      limit: 10,
      windowMs: 2500,
      burst: 10,
      blockMs: 0,
    }
    now = 1_700_000_014_714
    backend.decideNow('k', [policy], 3, 'consume')
    now += 1119 // the previous window's 3 now weigh 2.0004: 7 requests fit, not 8
    const [result] = backend.decideNow('k', [policy], 0, 'consume')
    expect(result!.remaining).toBe(7)
  })

  for (const algorithm of ['gcra', 'token-bucket', 'fixed-window', 'sliding-window'] as const) {
    it(`${algorithm} decides like its model`, () => {
      fc.assert(
        fc.property(policyArb(algorithm), opsArb, (policy, ops) => {
          let now = 1_700_000_000_000
          const clock = { now: () => now }
          const backend = new MemoryRateBackend(privateStateMap(clock), clock)
          const model = modelFor(policy)
          for (const op of ops) {
            now += op.dt
            const cost = Math.min(op.cost, policy.burst)
            const expected = model.step(now - 1_700_000_000_000, cost, !op.peek)
            const [got] = backend.decideNow('k', [policy], cost, op.peek ? 'peek' : 'consume')
            expect(got!.allowed).toBe(expected.allowed)
            if (!op.peek && got!.allowed) expect(got!.remaining).toBe(expected.remaining)
            if (!got!.allowed) expect(got!.retryAfterMs).toBeGreaterThan(0)
          }
        }),
        { numRuns: 100 },
      )
    })

    it(`${algorithm}: a refused request passes once retryAfterMs has passed, not before`, () => {
      fc.assert(
        fc.property(policyArb(algorithm), opsArb, (policy, ops) => {
          let now = 1_700_000_000_000
          const clock = { now: () => now }
          const map = privateStateMap(clock)
          const backend = new MemoryRateBackend(map, clock)
          for (const op of ops) {
            now += op.dt
            const cost = Math.max(1, Math.min(op.cost, policy.burst))
            const [got] = backend.decideNow('k', [policy], cost, 'peek')
            if (got!.allowed) {
              backend.decideNow('k', [policy], cost, 'consume')
              continue
            }
            const saved = now
            now = saved + got!.retryAfterMs
            expect(backend.decideNow('k', [policy], cost, 'peek')[0]!.allowed).toBe(true)
            now = saved + got!.retryAfterMs - 2
            if (got!.retryAfterMs > 2)
              expect(backend.decideNow('k', [policy], cost, 'peek')[0]!.allowed).toBe(false)
            now = saved
          }
        }),
        { numRuns: 100 },
      )
    })
  }

  it('peek and refused consumes never change what comes next', () => {
    fc.assert(
      fc.property(policyArb('gcra'), opsArb, (policy, ops) => {
        let now = 1_700_000_000_000
        const clock = { now: () => now }
        const a = new MemoryRateBackend(privateStateMap(clock), clock)
        const b = new MemoryRateBackend(privateStateMap(clock), clock)
        for (const op of ops) {
          now += op.dt
          const cost = Math.min(op.cost, policy.burst)
          const [ra] = a.decideNow('k', [policy], cost, 'consume')
          // b does a peek first and a doomed over-capacity consume: neither may change its state.
          b.decideNow('k', [policy], cost, 'peek')
          if (policy.burst < 100) b.decideNow('k', [{ ...policy, burst: policy.burst }], policy.burst, 'peek')
          const [rb] = b.decideNow('k', [policy], cost, 'consume')
          expect(rb).toEqual(ra)
        }
      }),
      { numRuns: 100 },
    )
  })
})
