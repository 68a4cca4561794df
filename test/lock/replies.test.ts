import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { createLocks, LockTimeoutError } from '../../src/lock/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer, useRedisStore } from '../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// The acquire script answers one integer: the token, or -2 - the holder's remaining ms.
describe.skipIf(!redisAvailable())('lock acquire replies and the uncontended path (Redis)', () => {
  const server = useRedisServer()
  const store = useRedisStore(server, { timeout: 1000 })

  it('a holder with no expiry (-1) and one about to expire (0 ms left) are both "held"', async () => {
    const locks = createLocks({ store: store(), prefix: 'replies:' })
    server.cli('SET', '__cachekit:lock:{replies:forever}', '1')
    const started = performance.now()
    await expect(locks.lock('forever', { wait: 120 })).rejects.toBeInstanceOf(LockTimeoutError)
    expect(performance.now() - started).toBeGreaterThanOrEqual(100)
    expect(await locks.tryLock('forever')).toBeUndefined()
    // A lock with 30 ms left: the waiter re-checks when it runs out (no message on expiry).
    server.cli('SET', '__cachekit:lock:{replies:short}', '1', 'PX', '30')
    const next = await locks.lock('short', { wait: 2000 })
    expect(next.token).toBeGreaterThan(1)
    await next.release()
    await locks.close()
  })

  it('a fence past 2^53 is refused with a typed error, never a rounded token', async () => {
    const locks = createLocks({ store: store(), prefix: 'replies:' })
    server.cli('SET', '__cachekit:lock:{replies:huge}:fence', '9007199254740993')
    await expect(locks.lock('huge', { ttl: 200 })).rejects.toBeInstanceOf(InvalidOptionError)
    await locks.close()
  })

  it('no waiter is registered on the uncontended path; a release during the first attempt is not lost', async () => {
    const locks = createLocks({ store: store(), prefix: 'fast:' })
    const second = redisStore({ url: server.url, timeout: 1000 })
    const other = createLocks({ store: second, prefix: 'fast:' })
    // Subscriptions up before timing.
    await (await other.lock('warm')).release()
    await sleep(100)
    const pending = locks.lock('free')
    expect(locks.stats().waiting).toBe(0)
    await (await pending).release()
    const waits: number[] = []
    for (let i = 0; i < 20; i++) {
      const held = await locks.lock(`race:${i}`, { ttl: 10_000 })
      const started = performance.now()
      // The release is sent right behind the waiter's first attempt: either it lands first (the
      // attempt wins), or the attempt marks the wait and the release message wakes it.
      const waiting = other.lock(`race:${i}`, { wait: 5000 })
      await held.release()
      await (await waiting).release()
      waits.push(performance.now() - started)
    }
    waits.sort((a, b) => a - b)
    // A lost wake-up would cost the 20 ms back-off at least; the holder's TTL is 10 s.
    expect(waits[10]).toBeLessThan(20)
    expect(other.stats()).toMatchObject({ waiting: 0, held: 0, timeouts: 0 })
    await locks.close()
    await other.close()
    await second.close()
  })
})
