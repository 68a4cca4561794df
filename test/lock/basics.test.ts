import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../../src/index.js'
import {
  createLocks,
  LockAbortedError,
  LockLostError,
  type Locks,
  LockTimeoutError,
} from '../../src/lock/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer, useRedisStore } from '../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The same behaviour from both backends. */
function behaviour(make: () => Locks) {
  it('one holder at a time; tokens increase; release wakes the next waiter', async () => {
    const locks = make()
    const first = await locks.lock('job', { ttl: 5000 })
    expect(await locks.tryLock('job')).toBeUndefined()
    const started = performance.now()
    const second = locks.lock('job', { ttl: 5000, wait: 5000 })
    await sleep(50)
    expect(await first.release()).toBe(true)
    expect(await first.release()).toBe(false)
    const next = await second
    // Woken by the release, not by the holder's TTL (5 s).
    expect(performance.now() - started).toBeLessThan(2500)
    expect(next.token).toBeGreaterThan(first.token)
    await next.release()
    await locks.close()
  })

  it('bounded wait rejects with LockTimeoutError; signal aborts with LockAbortedError', async () => {
    const locks = make()
    const held = await locks.lock('busy', { ttl: 5000 })
    const timeout = await locks.lock('busy', { wait: 100 }).catch((e: unknown) => e)
    expect(timeout).toBeInstanceOf(LockTimeoutError)
    expect((timeout as LockTimeoutError).code).toBe('E_LOCK_TIMEOUT')
    const controller = new AbortController()
    const waiting = locks.lock('busy', { wait: 5000, signal: controller.signal }).catch((e: unknown) => e)
    await sleep(30)
    controller.abort(new Error('user left'))
    const error = await waiting
    expect(error).toBeInstanceOf(LockAbortedError)
    expect((error as LockAbortedError).code).toBe('E_LOCK_ABORTED')
    expect(locks.stats().waiting).toBe(0)
    await held.release()
    await locks.close()
  })

  it('a lock expires on its TTL: the signal aborts, extend is refused, the next holder gets a larger token', async () => {
    const locks = make()
    const held = await locks.lock('short', { ttl: 150 })
    const next = await locks.lock('short', { ttl: 5000, wait: 3000 })
    expect(next.token).toBeGreaterThan(held.token)
    expect(held.signal.aborted).toBe(true)
    expect(held.signal.reason).toBeInstanceOf(LockLostError)
    await expect(held.extend()).rejects.toBeInstanceOf(LockLostError)
    expect(await held.release()).toBe(false)
    await next.release()
    await locks.close()
  })

  it('withLock extends while fn runs past the TTL and releases afterwards', async () => {
    const locks = make()
    const result = await locks.withLock(
      'long',
      async (lock) => {
        await sleep(700)
        expect(lock.signal.aborted).toBe(false)
        expect(await locks.tryLock('long')).toBeUndefined()
        return lock.token
      },
      { ttl: 300 },
    )
    expect(typeof result).toBe('number')
    const again = await locks.tryLock('long')
    expect(again?.token).toBeGreaterThan(result)
    await again?.release()
    expect(locks.stats()).toMatchObject({ held: 0, waiting: 0, lost: 0 })
    await locks.close()
  })

  it('refuses bad names and options with typed errors', async () => {
    const locks = make()
    await expect(locks.lock('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    await expect(locks.lock('a{b}')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    // @ts-expect-error not a duration
    await expect(locks.lock('a', { ttl: 'soon' })).rejects.toMatchObject({ code: 'E_INVALID_TTL' })
    await expect(locks.lock('a', { ttl: 0 })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    const held = await locks.lock('a')
    await expect(held.extend(0)).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    // @ts-expect-error not a duration
    await expect(held.extend('later')).rejects.toMatchObject({ code: 'E_INVALID_TTL' })
    expect(await locks.tryLock('a')).toBeUndefined()
    // A refused tryLock is an answer, not a timeout.
    expect(locks.stats().timeouts).toBe(0)
    await held.release()
    await locks.close()
    await expect(locks.lock('a')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
  })
}

describe('locks on a memory store', () => {
  const store = memoryStore()
  behaviour(() => createLocks({ store }))

  it('is recognised by its capabilities; anything else is refused', () => {
    expect(createLocks({ store }).shared).toBe(false)
    expect(() => createLocks({ store: {} })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })
})

describe.skipIf(!redisAvailable())('locks on a Redis store', () => {
  const server = useRedisServer()
  const store = useRedisStore(server, { timeout: 1000 })

  behaviour(() => createLocks({ store: store(), prefix: `t${Math.random().toString(36).slice(2)}:` }))

  it('a release publishes a wake-up only when someone waits', async () => {
    const locks = createLocks({ store: store(), prefix: 'pub:' })
    const second = redisStore({ url: server.url, timeout: 1000 })
    const other = createLocks({ store: second, prefix: 'pub:' })
    const publishes = () =>
      Number(/cmdstat_publish:calls=(\d+)/.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0)
    const before = publishes()
    for (let i = 0; i < 10; i++) await (await locks.lock('quiet')).release()
    expect(publishes()).toBe(before)
    const held = await locks.lock('busy')
    const waiting = other.lock('busy', { wait: 5000 })
    await sleep(100)
    await held.release()
    await (await waiting).release()
    expect(publishes()).toBe(before + 1)
    await locks.close()
    await other.close()
    await second.close()
  })

  it('tokens keep increasing across restarts of the app (a new store and new locks)', async () => {
    const first = createLocks({ store: store(), prefix: 'restart:' })
    const before = await first.lock('job')
    await before.release()
    await first.close()
    const restarted = redisStore({ url: server.url, timeout: 1000 })
    const again = createLocks({ store: restarted, prefix: 'restart:' })
    const after = await again.lock('job')
    expect(after.token).toBeGreaterThan(before.token)
    await after.release()
    await again.close()
    await restarted.close()
  })

  it('lock keys are invisible to the cache: keys() does not list them, clear() does not remove them', async () => {
    const cache = createCache({ store: store() })
    const locks = createLocks({ store: store(), prefix: 'hidden:' })
    const held = await locks.lock('job')
    await cache.set('visible', 1)
    const keys: string[] = []
    for await (const key of cache.keys('*')) keys.push(key)
    expect(keys.some((key) => key.includes('lock'))).toBe(false)
    await cache.clear()
    expect(server.cli('EXISTS', '__cachekit:lock:{hidden:job}')).toBe('1')
    expect(await held.release()).toBe(true)
    await locks.close()
  })

  it('keeps lock and fence in one hash slot, out of the cache keyspace', async () => {
    const locks = createLocks({ store: store(), prefix: 'slot:' })
    const held = await locks.lock('orders')
    expect(server.cli('EXISTS', '__cachekit:lock:{slot:orders}')).toBe('1')
    expect(server.cli('GET', '__cachekit:lock:{slot:orders}:fence')).toBe(String(held.token))
    expect(server.cli('CLUSTER', 'KEYSLOT', '__cachekit:lock:{slot:orders}')).toBe(
      server.cli('CLUSTER', 'KEYSLOT', '__cachekit:lock:{slot:orders}:fence'),
    )
    await held.release()
    await locks.close()
  })
})
