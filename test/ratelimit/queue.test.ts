import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createRateLimiter,
  createRateQueue,
  RateQueueClosedError,
  RateQueueFullError,
  RateWaitTimeoutError,
} from '../../src/ratelimit/index.js'
import { useRedisServer, useRedisStore } from '../support/redis.js'

const WINDOW = 1000
/** The limiter reads the mocked Date through this clock (systemClock holds the real Date.now). */
const clock = { now: () => Date.now() }

/** Allowed decisions per fixed window, from the times they were made. */
function perWindow(times: readonly number[], windowMs: number): number[] {
  const counts = new Map<number, number>()
  for (const t of times) counts.set(Math.floor(t / windowMs), (counts.get(Math.floor(t / windowMs)) ?? 0) + 1)
  return [...counts.values()]
}

describe('rate queue on memory (fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const fixed = () =>
    createRateLimiter({ clock, rules: { api: { limit: 3, window: WINDOW, algorithm: 'fixed-window' } } })

  it('serves every waiter in order and never more than the limit per window', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const limiter = fixed()
    const queue = createRateQueue(limiter, 'api', { maxWait: '1m' })
    const served: number[] = []
    const times: number[] = []
    const all = Array.from({ length: 10 }, (_, i) =>
      queue.wait('k').then((result) => {
        expect(result.allowed).toBe(true)
        served.push(i)
        times.push(Date.now())
      }),
    )
    expect(queue.size('k')).toBe(10)
    await vi.advanceTimersByTimeAsync(4 * WINDOW)
    await Promise.all(all)
    expect(served).toEqual([...served].sort((a, b) => a - b))
    expect(served).toHaveLength(10)
    expect(perWindow(times, WINDOW)).toEqual([3, 3, 3, 1])
    expect(queue.size()).toBe(0)
    // One timer per key: no polling between windows.
    expect(limiter.stats().decisions).toBe(10 + 3)
  })

  it('other keys wait in their own line', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const queue = createRateQueue(fixed(), 'api')
    for (let i = 0; i < 3; i++) await queue.wait('busy')
    const late = queue.wait('busy')
    const other = await queue.wait('quiet')
    expect(other.allowed).toBe(true)
    expect(queue.size('busy')).toBe(1)
    await vi.advanceTimersByTimeAsync(WINDOW)
    expect((await late).allowed).toBe(true)
  })

  it('a full queue refuses with E_RATE_QUEUE_FULL', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const queue = createRateQueue(createRateLimiter({ clock, rules: { api: '1/s' } }), 'api', { maxQueue: 2 })
    const first = queue.wait('k')
    const second = queue.wait('k')
    const third = queue.wait('k')
    await expect(third).rejects.toBeInstanceOf(RateQueueFullError)
    await expect(third).rejects.toMatchObject({ code: 'E_RATE_QUEUE_FULL', key: 'k' })
    await vi.advanceTimersByTimeAsync(WINDOW)
    expect((await first).allowed && (await second).allowed).toBe(true)
  })

  it('maxWait rejects with E_RATE_WAIT_TIMEOUT, as soon as the wait is known to be too long', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const queue = createRateQueue(createRateLimiter({ clock, rules: { api: '1/hour' } }), 'api', {
      maxWait: '2s',
    })
    await queue.wait('k')
    const started = Date.now()
    await expect(queue.wait('k')).rejects.toMatchObject({ code: 'E_RATE_WAIT_TIMEOUT', key: 'k' })
    expect(Date.now()).toBe(started)
    // Behind a caller: the timer ends its wait.
    const limited = createRateQueue(fixed(), 'api', { maxWait: 1500 })
    for (let i = 0; i < 3; i++) await limited.wait('q')
    const ahead = limited.wait('q', { cost: 3 })
    const behind = limited.wait('q', { maxWait: 500 })
    const caught = behind.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(500)
    expect(await caught).toBeInstanceOf(RateWaitTimeoutError)
    await vi.advanceTimersByTimeAsync(WINDOW)
    expect((await ahead).remaining).toBe(0)
  })

  it('an abort takes the caller out; the next one is served', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const limiter = fixed()
    const queue = createRateQueue(limiter, 'api')
    for (let i = 0; i < 3; i++) await queue.wait('k')
    const controller = new AbortController()
    const gone = queue.wait('k', { signal: controller.signal })
    const next = queue.wait('k')
    controller.abort(new Error('caller left'))
    await expect(gone).rejects.toThrow('caller left')
    expect(queue.size('k')).toBe(1)
    await vi.advanceTimersByTimeAsync(WINDOW)
    expect((await next).remaining).toBe(2)
    await expect(queue.wait('k', { signal: AbortSignal.abort() })).rejects.toThrow()
  })

  it('close() rejects every waiter with E_RATE_QUEUE_CLOSED, stops its timers, and gives back an allowance won in flight', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const limiter = fixed()
    const queue = createRateQueue(limiter, 'api')
    for (let i = 0; i < 2; i++) await queue.wait('k')
    // The third is allowed, but its decision is still in flight when the queue closes.
    const inFlight = queue.wait('k')
    const waiting = [queue.wait('k'), queue.wait('other')]
    queue.close()
    queue.close()
    for (const pending of [inFlight, ...waiting]) {
      await expect(pending).rejects.toBeInstanceOf(RateQueueClosedError)
    }
    await expect(queue.wait('k')).rejects.toMatchObject({ code: 'E_RATE_QUEUE_CLOSED' })
    expect(queue.size()).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(0)
    // The allowance the closed caller won went back: one more call fits in this window.
    expect((await limiter.consume('api', 'k')).remaining).toBe(0)
  })

  it('a limiter error rejects that caller only', async () => {
    vi.useFakeTimers({ now: 10 * WINDOW + 1 })
    const queue = createRateQueue(fixed(), 'api')
    await expect(queue.wait('k', { cost: 4 })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    expect((await queue.wait('k')).allowed).toBe(true)
  })

  it('checks its options', () => {
    const limiter = fixed()
    expect(() => createRateQueue(limiter, 'nope' as 'api')).toThrow(/Unknown rate limit scope/)
    expect(() => createRateQueue(limiter, 'api', { maxQueue: 0 })).toThrow(/maxQueue/)
    expect(() => createRateQueue(limiter, 'api', { maxWait: -1 })).toThrow(/maxWait/)
  })
})

describe('rate queue on Redis (real time)', () => {
  const server = useRedisServer()
  const store = useRedisStore(server)

  it('two processes queueing on one key: never more than the limit per window, each in order', async () => {
    const window = 400
    const options = {
      store: store(),
      prefix: `queue-${Date.now()}`,
      rules: { api: { limit: 3, window, algorithm: 'fixed-window' as const } },
      denyCache: false,
    }
    const [a, b] = [createRateLimiter(options), createRateLimiter(options)]
    const windows: number[] = []
    const order: Record<string, number[]> = { a: [], b: [] }
    const run = (name: 'a' | 'b', limiter: typeof a) => {
      const queue = createRateQueue(limiter, 'api', { maxWait: '10s' })
      return Array.from({ length: 6 }, (_, i) =>
        queue.wait('shared').then((result) => {
          expect(result.allowed).toBe(true)
          // The fixed window's end, on the server's clock (same host): a multiple of the window.
          windows.push(Math.round((Date.now() + result.resetMs) / window))
          order[name]!.push(i)
        }),
      )
    }
    await Promise.all([...run('a', a), ...run('b', b)])
    expect(order['a']).toEqual([0, 1, 2, 3, 4, 5])
    expect(order['b']).toEqual([0, 1, 2, 3, 4, 5])
    const counts = perWindow(windows, 1)
    expect(Math.max(...counts)).toBeLessThanOrEqual(3)
    expect(counts.reduce((x, y) => x + y, 0)).toBe(12)
    await Promise.all([a.close(), b.close()])
  })

  it('full queue, timeout and abort on Redis', async () => {
    const limiter = createRateLimiter({
      store: store(),
      prefix: `queue-e-${Date.now()}`,
      rules: { api: '1/hour' },
    })
    const queue = createRateQueue(limiter, 'api', { maxQueue: 1, maxWait: '5s' })
    await queue.wait('k')
    await expect(queue.wait('k')).rejects.toMatchObject({ code: 'E_RATE_WAIT_TIMEOUT' })
    const long = createRateQueue(limiter, 'api', { maxQueue: 1, maxWait: '2h' })
    const controller = new AbortController()
    const held = long.wait('k', { signal: controller.signal })
    await expect(long.wait('k')).rejects.toMatchObject({ code: 'E_RATE_QUEUE_FULL' })
    controller.abort()
    await expect(held).rejects.toMatchObject({ name: 'AbortError' })
    expect(long.size()).toBe(0)
    await limiter.close()
  })
})
