import diagnostics from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../src/errors.js'
import { createLocks, type LockHandle, LockLostError } from '../../src/lock/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { type RedisServer, redisAvailable, startRedis } from '../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/**
 * The outcome of `promise` and when it settled, handled at once (a rejection while the test is
 * busy killing the server is not an unhandled one).
 */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value, error: undefined as unknown, at: performance.now() }),
    (error: unknown) => ({ value: undefined, error, at: performance.now() }),
  )
/** Settles with the outcome and how long it took from `from`. */
const timed = async (promise: Promise<unknown>, from: number) => {
  const settled = await outcome(promise)
  return { ...settled, ms: settled.at - from }
}

describe.skipIf(!redisAvailable())('locks when Redis fails', () => {
  let server: RedisServer | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  it('Redis killed while a lock is held and another waits: typed errors within the deadlines, no hang, bounded close', async () => {
    server = await startRedis()
    const timeout = 200
    const ttl = 1500
    // onError: 'ignore' turns cache reads into misses; a lock must still never be granted blind.
    const store = redisStore({ url: server.url, timeout, onError: 'ignore' })
    await store.ready()
    const locks = createLocks({ store })
    const degraded: { source: string; kind: string }[] = []
    const listen = (event: unknown) => degraded.push(event as { source: string; kind: string })
    diagnostics.subscribe('cachekit:degraded', listen)
    let handle: LockHandle | undefined
    let lostAt = 0
    const holding = locks.withLock(
      'job',
      async (lock) => {
        handle = lock
        await new Promise((resolve) =>
          lock.signal.addEventListener('abort', () => {
            lostAt = performance.now()
            resolve(undefined)
          }),
        )
        return 'finished'
      },
      { ttl },
    )
    while (handle === undefined) await sleep(5)
    const waiter = outcome(locks.lock('job', { wait: 30_000 }))
    await sleep(100)
    const killedAt = performance.now()
    await server.kill()

    const waited = await waiter
    expect(waited.error).toBeInstanceOf(StoreUnavailableError)
    expect(waited.at - killedAt).toBeLessThan(3000)

    const fresh = await timed(locks.lock('other', { wait: 30_000 }), performance.now())
    expect(fresh.error).toBeInstanceOf(StoreUnavailableError)
    expect(fresh.ms).toBeLessThan(timeout + 1500)

    // The holder is told its lock is gone once its TTL passes without an extension.
    expect(await holding).toBe('finished')
    expect(lostAt - killedAt).toBeLessThan(ttl + 1500)
    const reason = handle.signal.reason as LockLostError
    expect(reason).toBeInstanceOf(LockLostError)
    expect(reason.cause).toBeInstanceOf(StoreUnavailableError)
    expect(locks.stats()).toMatchObject({ held: 0, waiting: 0, lost: 1 })
    expect(locks.stats().errors).toBeGreaterThan(0)
    // Degradation is never silent: every absorbed failure and the loss are published.
    diagnostics.unsubscribe('cachekit:degraded', listen)
    const kinds = new Set(degraded.filter((e) => e.source === 'lock').map((e) => e.kind))
    expect([...kinds].sort()).toEqual(['extend-failed', 'lock-lost', 'release-failed'])

    const closing = performance.now()
    await locks.close()
    await store.close()
    expect(performance.now() - closing).toBeLessThan(3000)
  }, 30_000)

  it('Redis hung (SIGSTOP): lock() fails within the store deadline; close() stays bounded while locks are held', async () => {
    server = await startRedis()
    const timeout = 200
    const store = redisStore({ url: server.url, timeout })
    await store.ready()
    const locks = createLocks({ store })
    const held = await locks.lock('held', { ttl: 10_000 })
    server.pause()
    try {
      const attempt = await timed(locks.lock('hung', { wait: 30_000 }), performance.now())
      expect(attempt.error).toBeInstanceOf(StoreUnavailableError)
      expect(attempt.ms).toBeLessThan(timeout + 1500)
      await expect(held.release()).rejects.toBeInstanceOf(StoreUnavailableError)
      const closing = performance.now()
      await locks.close()
      await store.close()
      expect(performance.now() - closing).toBeLessThan(3500)
    } finally {
      server.resume()
    }
  }, 30_000)

  it('Redis restarted empty (no persistence): tokens still increase, floored by the server clock', async () => {
    server = await startRedis()
    const store = redisStore({ url: server.url, timeout: 500 })
    await store.ready()
    const locks = createLocks({ store })
    const before = await locks.lock('job')
    await before.release()
    await server.restart()
    expect(server.cli('EXISTS', '__cachekit:lock:{job}:fence')).toBe('0')
    let after: LockHandle | undefined
    const until = performance.now() + 10_000
    while (after === undefined && performance.now() < until) {
      after = await locks.lock('job').catch(async (error: unknown) => {
        expect(error).toBeInstanceOf(StoreUnavailableError)
        await sleep(100)
        return undefined
      })
    }
    expect(after?.token).toBeGreaterThan(before.token)
    await after?.release()
    await locks.close()
    await store.close()
  }, 30_000)
})
