import { describe, expect, it } from 'vitest'
import { createCache, InvalidOptionError, type MemoryStore, memoryStore } from '../../src/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { closing } from '../support/caches.js'
import { waitFor } from '../support/processes.js'
import { useRedisServer } from '../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('expire, namespace clear and routed writes on tiers over a private Redis with the pub/sub bus', () => {
  const server = useRedisServer()
  const keep = closing('each')
  /** One instance of an app: its own L1, the shared Redis as L2 and bus. */
  const instance = (prefix: string): { cache: ReturnType<typeof createCache>; l1: MemoryStore } => {
    const l1 = memoryStore()
    const cache = keep(createCache({ tiers: [l1, redisStore({ url: server.url, timeout: 500 })], prefix }))
    return { cache, l1 }
  }
  /** Two instances whose bus subscriptions are up (a write of one reaches the other's L1). */
  const pair = async (prefix: string) => {
    const [a, b] = [instance(prefix), instance(prefix)]
    await Promise.all([a.cache.ready(), b.cache.ready()])
    await a.cache.set('probe', { v: 0 })
    await filled(b, b.cache, 'probe')
    await a.cache.set('probe', { v: 1 })
    await waitFor(async () => (await b.cache.get<{ v: number }>('probe'))?.v === 1, 3000)
    return [a, b] as const
  }
  /**
   * Reads `key` through `cache` until the instance's L1 holds a copy: a refill is dropped when an
   * invalidation (such as the bus message of the write just made) lands while it reads L2.
   */
  const filled = (at: { l1: MemoryStore }, cache: ReturnType<typeof createCache>, key: string) =>
    waitFor(async () => {
      await cache.get(key)
      return (await at.l1.get(cache.makeKey(key))) !== undefined
    }, 2000)

  it('expire(key) reaches the L1 of every instance; getOrSet there serves the stale value while refreshing', async () => {
    const [a, b] = await pair('exp')
    await a.cache.set('k', { v: 1 }, { ttl: '1h' })
    await filled(b, b.cache, 'k')
    expect(await b.l1.get('exp:k')).toEqual({ v: 1 })
    expect(await a.cache.expire('k')).toBe(true)
    await waitFor(async () => (await b.l1.get('exp:k')) === undefined, 2000)
    expect(await b.cache.get('k')).toBeUndefined()
    expect(await a.cache.get('k')).toBeUndefined()
    const left = await b.cache.ttl('k')
    expect(typeof left === 'number' && left > 3_500_000).toBe(true)
    expect(await b.cache.getOrSet('k', async () => ({ v: 2 }))).toEqual({ v: 1 })
    await waitFor(async () => (await a.cache.get<{ v: number }>('k'))?.v === 2, 2000)
    await waitFor(async () => (await b.cache.get<{ v: number }>('k'))?.v === 2, 2000)
  })

  it('a namespace clear() on one instance empties that namespace in the L1 of the others, and only it', async () => {
    const [a, b] = await pair('clr')
    await a.cache.namespace('x').set('k', { v: 'x' })
    await a.cache.namespace('y').set('k', { v: 'y' })
    await a.cache.set('root', { v: 'root' })
    await filled(b, b.cache.namespace('x'), 'k')
    await filled(b, b.cache.namespace('y'), 'k')
    await filled(b, b.cache, 'root')
    expect(await b.l1.get('clr:x:k')).toEqual({ v: 'x' })
    await a.cache.namespace('x').clear()
    await waitFor(async () => (await b.l1.get('clr:x:k')) === undefined, 2000)
    expect(await b.cache.namespace('x').get('k')).toBeUndefined()
    await sleep(50) // any stray invalidation would have landed by now
    expect(await b.l1.get('clr:y:k')).toEqual({ v: 'y' })
    expect(await b.l1.get('clr:root')).toEqual({ v: 'root' })
    expect(await b.cache.namespace('y').get('k')).toEqual({ v: 'y' })
  })

  it("set with { l2: false } writes only this L1 and still drops the other instances' copies", async () => {
    const [a, b] = await pair('l1only')
    await a.cache.set('k', { v: 'shared' })
    await filled(b, b.cache, 'k')
    await a.cache.set('k', { v: 'local' }, { l2: false })
    expect(await a.cache.get('k')).toEqual({ v: 'local' })
    await waitFor(async () => (await b.l1.get('l1only:k')) === undefined, 2000)
    expect(await b.cache.get('k')).toEqual({ v: 'shared' }) // L2 kept what it had
    expect(await a.cache.ttl('k')).toBe(null) // L2's entry, untouched
  })

  it("set with { bus: false } writes both tiers and leaves the other instances' L1 copies", async () => {
    const [a, b] = await pair('quiet')
    await a.cache.set('k', { v: 1 })
    await filled(b, b.cache, 'k')
    await a.cache.set('k', { v: 2 }, { bus: false })
    await sleep(100) // a message, had one gone out, would have landed
    expect(await b.l1.get('quiet:k')).toEqual({ v: 1 })
    expect(await b.cache.get('k')).toEqual({ v: 1 })
    expect(await a.cache.get('k')).toEqual({ v: 2 })
    const c = instance('quiet')
    expect(await c.cache.get('k')).toEqual({ v: 2 }) // from L2
    await a.cache.set('k', { v: 3 }, { l2: false, bus: false })
    await sleep(100)
    expect(await a.cache.get('k')).toEqual({ v: 3 })
    expect(await b.cache.get('k')).toEqual({ v: 1 })
    expect(await c.cache.get('k')).toEqual({ v: 2 })
  })

  it('set with l2 or bus is refused on a cache without tiers, and with a TTL of 0', async () => {
    const plain = keep(createCache({ store: redisStore({ url: server.url, timeout: 500 }), prefix: 'plain' }))
    await expect(plain.set('k', 1, { l2: false })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(plain.set('k', 1, { bus: false })).rejects.toBeInstanceOf(InvalidOptionError)
    expect(await plain.get('k')).toBeUndefined()
    const { cache } = instance('zero')
    await expect(cache.set('k', 1, { l2: false, ttl: 0 })).rejects.toBeInstanceOf(InvalidOptionError)
  })

  it('expire(key) keeps a tiered entry answering to its tags on every instance', async () => {
    const [a, b] = await pair('ttag')
    await a.cache.set('k', { v: 1 }, { ttl: '1h', tags: ['t'] })
    await filled(b, b.cache, 'k')
    expect(await a.cache.expire('k')).toBe(true)
    await waitFor(async () => (await b.l1.get('ttag:k')) === undefined, 2000)
    expect(await b.cache.get('k')).toBeUndefined()
    expect(await a.cache.deleteByTag('t')).toBe(1)
    await waitFor(async () => (await b.l1.get('ttag:k')) === undefined, 2000) // the bus message
    // Removed, not stale: getOrSet has nothing to serve as grace and calls the factory.
    expect(await b.cache.getOrSet('k', () => ({ v: 'fresh' }))).toEqual({ v: 'fresh' })
  })

  it('expire(key) keeps a Redis entry answering to its tags', async () => {
    const cache = keep(createCache({ store: redisStore({ url: server.url, timeout: 500 }), prefix: 'tag' }))
    await cache.set('k', { v: 1 }, { ttl: '1h', tags: ['t'] })
    expect(await cache.expire('k')).toBe(true)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.deleteByTag('t')).toBe(1)
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh')
  })
})
