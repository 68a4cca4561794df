import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { createRateLimiter, createRateQueue } from '../../src/ratelimit/index.js'

const WINDOW = 1000
const LIMIT = 4
const clock = { now: () => Date.now() }

interface Call {
  readonly key: 'a' | 'b'
  readonly at: number
  readonly cost: number
  readonly maxWait: number
  /** Aborted this long after it starts waiting, or never. */
  readonly abortAfter: number | null
}

const call = fc.record({
  key: fc.constantFrom('a' as const, 'b' as const),
  at: fc.integer({ min: 0, max: 3000 }),
  cost: fc.integer({ min: 1, max: LIMIT }),
  maxWait: fc.integer({ min: 1, max: 12_000 }),
  abortAfter: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null }),
})

/**
 * Against the model of a fixed window (at most LIMIT points per key and window, nothing spent by a
 * caller that did not get through), whatever arrives, times out or aborts: every call settles,
 * the points granted per key and window never pass the limit, the calls of one key get through
 * in arrival order, a timeout comes no later than maxWait, and a call gets through by the start of
 * the window after it reaches the front of its line, unless it gives up first.
 */
describe('rate queue against a fixed-window model (fast-check, fake clock)', () => {
  it('never over the limit, FIFO per key, every call settles', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 25 }), async (calls) => {
        vi.useFakeTimers({ now: 100 * WINDOW })
        try {
          const limiter = createRateLimiter({
            clock,
            rules: { api: { limit: LIMIT, window: WINDOW, algorithm: 'fixed-window' } },
          })
          const queue = createRateQueue(limiter, 'api', { maxQueue: 100 })
          const start = Date.now()
          const order = [...calls.entries()].sort((x, y) => x[1].at - y[1].at || x[0] - y[0])
          const outcome = new Map<number, { ok: boolean; at: number; code?: string }>()
          const arrival: number[] = []
          const settled: Promise<void>[] = []
          let now = 0
          for (const [i, c] of order) {
            await vi.advanceTimersByTimeAsync(c.at - now)
            now = c.at
            const controller = new AbortController()
            if (c.abortAfter !== null) setTimeout(() => controller.abort(new Error('left')), c.abortAfter)
            arrival.push(i)
            settled.push(
              queue.wait(c.key, { cost: c.cost, maxWait: c.maxWait, signal: controller.signal }).then(
                () => void outcome.set(i, { ok: true, at: Date.now() }),
                (e: { code?: string }) =>
                  void outcome.set(i, { ok: false, at: Date.now(), ...(e.code ? { code: e.code } : {}) }),
              ),
            )
          }
          await vi.advanceTimersByTimeAsync(20 * WINDOW)
          await Promise.all(settled)
          expect(outcome.size).toBe(calls.length)
          expect(queue.size()).toBe(0)
          for (const key of ['a', 'b'] as const) {
            const spent = new Map<number, number>()
            const served: number[] = []
            /** When the last call of this key that arrived before settled. */
            let lastSettled = 0
            for (const i of arrival) {
              const c = calls[i] as Call
              const o = outcome.get(i)!
              if (c.key !== key) continue
              if (o.ok) {
                const w = Math.floor(o.at / WINDOW)
                spent.set(w, (spent.get(w) ?? 0) + c.cost)
                served.push(o.at)
              } else if (o.code === 'E_RATE_WAIT_TIMEOUT') {
                expect(o.at - (start + c.at)).toBeLessThanOrEqual(c.maxWait)
              }
              // The model: a call reaches the front when it arrives or the calls ahead have settled, and
              // gets through then or at the next window's start (its cost fits in a fresh window).
              const front = Math.max(start + c.at, lastSettled)
              const latest = Math.floor(front / WINDOW) * WINDOW + WINDOW
              if (o.ok) expect(o.at).toBeLessThanOrEqual(latest)
              else if (c.abortAfter === null && latest < start + c.at + c.maxWait) expect(o).toBe('served')
              lastSettled = Math.max(lastSettled, o.at)
            }
            for (const points of spent.values()) expect(points).toBeLessThanOrEqual(LIMIT)
            expect(served).toEqual([...served].sort((x, y) => x - y))
          }
          await limiter.close()
        } finally {
          vi.useRealTimers()
        }
      }),
      { numRuns: 60 },
    )
  })
})
