import { ThrottlerStorageService } from '@nestjs/throttler'
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { MemoryStore } from '../../src/index.js'
import { script } from '../../src/internal/index.js'
import { CachekitThrottlerStorage, type NestThrottlerRecord } from '../../src/nest/index.js'
import { INCREMENT } from '../../src/nest/throttler.js'
import { type ScriptRunner, scriptRunnerFromClient } from '../../src/ratelimit/index.js'
import { hasRedis, useRedis } from '../support/ratelimit.js'

const START = 1_700_000_000_000

interface Config {
  readonly ttl: number
  readonly limit: number
  readonly block: number
}

const configs = fc.record({
  ttl: fc.integer({ min: 1000, max: 60_000 }),
  limit: fc.integer({ min: 0, max: 5 }),
  block: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 120_000 })),
})
const operations = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b'), advance: fc.integer({ min: 0, max: 3000 }) }),
  { maxLength: 40 },
)

/** Our memory storage on a clock the test moves. */
function memoryStorage(clock: { now: number }): CachekitThrottlerStorage {
  return new CachekitThrottlerStorage(new MemoryStore({ mutation: 'reference' }), {
    clock: { now: () => clock.now },
  })
}

describe('Nest throttler storage on the memory store', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers as Nest’s in-memory storage while no window has ended (fast-check)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    await fc.assert(
      fc.asyncProperty(configs, operations, async ({ ttl, limit, block }, ops) => {
        // Nest lets the first request after a block through even with limit 0; this storage does not.
        fc.pre(!(limit === 0 && block > 0))
        const clock = { now: START }
        vi.setSystemTime(clock.now)
        const nest = new ThrottlerStorageService()
        const ours = memoryStorage(clock)
        try {
          let elapsed = 0
          for (const { key, advance } of ops) {
            // Stay inside the first window: Nest forgets hits one by one, ours at the window's end.
            if (elapsed + advance < ttl) elapsed += advance
            clock.now = START + elapsed
            vi.setSystemTime(clock.now)
            const expected = await nest.increment(key, ttl, limit, block, 'default')
            const got = await ours.increment(key, ttl, limit, block, 'default')
            expect(got.isBlocked).toBe(expected.isBlocked)
            expect(got.totalHits).toBe(expected.totalHits)
            expect(got.timeToExpire).toBe(expected.timeToExpire)
            if (expected.isBlocked) expect(got.timeToBlockExpire).toBe(expected.timeToBlockExpire)
            else expect(got.timeToBlockExpire).toBe(0)
          }
        } finally {
          nest.onApplicationShutdown()
        }
      }),
      { numRuns: 300 },
    )
  })

  it('over any stretch of time: at most limit per window, blocks held for blockDuration (fast-check)', async () => {
    const longOps = fc.array(
      fc.record({ key: fc.constant('k'), advance: fc.integer({ min: 0, max: 20_000 }) }),
      { maxLength: 80 },
    )
    await fc.assert(
      fc.asyncProperty(configs, longOps, async ({ ttl, limit, block }, ops) => {
        const clock = { now: START }
        const ours = memoryStorage(clock)
        const passed: number[] = []
        let blockedUntil = 0
        for (const { key, advance } of ops) {
          clock.now += advance
          const got = await ours.increment(key, ttl, limit, block, 'default')
          if (!got.isBlocked) {
            expect(clock.now).toBeGreaterThanOrEqual(blockedUntil)
            passed.push(clock.now)
            // Never more than `limit` in a window, so never more than 2 × limit in any ttl (a block
            // shorter than ttl ends early and starts a fresh count, as in Nest).
            if (block === 0 || block >= ttl) {
              expect(passed.filter((t) => t > clock.now - ttl).length).toBeLessThanOrEqual(2 * limit)
            }
            expect(got.totalHits).toBeLessThanOrEqual(limit)
          } else {
            expect(got.timeToBlockExpire).toBeGreaterThan(0)
            if (block > 0 && blockedUntil <= clock.now) blockedUntil = clock.now + block
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('limit N: N pass, the next starts a block of blockDuration, then a fresh count', async () => {
    const clock = { now: START }
    const ours = memoryStorage(clock)
    const hits = async () => ours.increment('ip', 60_000, 2, 5000, 'default')
    expect(await hits()).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 })
    expect(await hits()).toEqual({ totalHits: 2, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 })
    expect(await hits()).toEqual({ totalHits: 3, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 5 })
    clock.now += 4999
    expect((await hits()).isBlocked).toBe(true)
    clock.now += 1
    expect(await hits()).toEqual({ totalHits: 1, timeToExpire: 55, isBlocked: false, timeToBlockExpire: 0 })
  })

  it('keeps throttlers and keys apart, and refuses values Nest never passes', async () => {
    const ours = memoryStorage({ now: START })
    await ours.increment('ip', 1000, 1, 1000, 'short')
    expect((await ours.increment('ip', 1000, 1, 1000, 'short')).isBlocked).toBe(true)
    expect((await ours.increment('ip', 1000, 1, 1000, 'long')).isBlocked).toBe(false)
    expect((await ours.increment('other', 1000, 1, 1000, 'short')).isBlocked).toBe(false)
    await expect(ours.increment('ip', 0, 1, 0, 'x')).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    await expect(ours.increment('ip', 1000, Number.NaN, 0, 'x')).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    })
    await expect(ours.increment('ip', 1000, 1, -1, 'x')).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
  })

  it('refuses a store that cannot run its counters atomically', () => {
    expect(() => new CachekitThrottlerStorage({} as never)).toThrow(/store/)
  })
})

describe.skipIf(!hasRedis)('Nest throttler storage on Redis', () => {
  const redis = useRedis()
  let runner: ScriptRunner
  beforeAll(async () => {
    runner = scriptRunnerFromClient(await redis.client())
  })

  it('the Lua script decides as the memory storage, step for step (fast-check, clock injected)', async () => {
    // The same script with `now` from ARGV[4] instead of the server's TIME.
    const clocked = script(
      'test-nest-throttler-clocked',
      INCREMENT.source.replace(
        /local t = redis\.call\('TIME'\)\nlocal now = [^\n]+/,
        'local now = tonumber(ARGV[4])',
      ),
    )
    expect(clocked.source).not.toContain("'TIME'")
    let run = 0
    await fc.assert(
      fc.asyncProperty(configs, operations, async ({ ttl, limit, block }: Config, ops) => {
        run++
        const clock = { now: START }
        const ours = memoryStorage(clock)
        for (const { key, advance } of ops) {
          clock.now += advance * 7
          const expected = await ours.increment(key, ttl, limit, block, 'default')
          const id = `test-nest-lua:${process.pid}:${run}:default:${key}`
          const reply = (await runner.run(clocked, [id], [ttl, limit, block, clock.now])) as number[]
          const got: NestThrottlerRecord = {
            totalHits: Number(reply[0]),
            timeToExpire: Math.ceil(Number(reply[1]) / 1000),
            isBlocked: Number(reply[2]) === 1,
            timeToBlockExpire: Number(reply[2]) === 1 ? Math.ceil(Number(reply[3]) / 1000) : 0,
          }
          expect(got).toEqual(expected)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('one round trip per increment, on the server clock', async () => {
    let calls = 0
    const counting: ScriptRunner = {
      run: (s, keys, args) => {
        calls++
        return runner.run(s, keys, args)
      },
    }
    const storage = new CachekitThrottlerStorage(counting, { prefix: `test-nest-rt-${process.pid}` })
    const records = []
    for (let i = 0; i < 4; i++) records.push(await storage.increment('ip', 60_000, 2, 30_000, 'default'))
    expect(calls).toBe(4)
    expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [3, true],
    ])
    expect(records[2]?.timeToBlockExpire).toBe(30)
    expect(records[0]?.timeToExpire).toBe(60)
  })
})
