import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../../src/index.js'
import { counterKey, fingerprint } from '../../../src/stores/redis/bookkeeping.js'
import { type RedisStore, redisStore } from '../../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

const MAX_TTL = 3_155_760_000_000

describe('Redis store option bounds', () => {
  it('refuses timer durations of 2^31 ms or more, and non-finite ones, with E_INVALID_OPTION', () => {
    const url = 'redis://127.0.0.1:1'
    for (const bad of [2 ** 31, 2 ** 40, Number.POSITIVE_INFINITY, Number.NaN, 0, -1, 1.5]) {
      for (const options of [
        { timeout: bad },
        { connectTimeout: bad },
        { maxReconnectDelay: bad },
        { breaker: { coolDownMs: bad } },
      ]) {
        expect(() => redisStore({ url, ...options }), JSON.stringify({ bad, options })).toThrow(
          expect.objectContaining({ code: 'E_INVALID_OPTION' }),
        )
      }
    }
  })

  it('accepts 2^31 - 1 ms', async () => {
    const store = redisStore({
      url: 'redis://127.0.0.1:1',
      timeout: 2 ** 31 - 1,
      connectTimeout: 2 ** 31 - 1,
      maxReconnectDelay: 2 ** 31 - 1,
      breaker: { coolDownMs: 2 ** 31 - 1 },
      onLog: () => {},
    })
    await store.close()
  })
})

describe.skipIf(!redisAvailable())('Redis tag bookkeeping and edge values', () => {
  const server = useRedisServer()
  let store: RedisStore
  let cache: Cache
  beforeAll(async () => {
    store = redisStore({ url: server.url, timeout: 2000 })
    cache = createCache({ store, prefix: 'edges' })
  })
  afterAll(async () => {
    await cache?.close()
  })
  const setKey = (tag: string) => `__cachekit:tag:${cache.makeKey(tag)}`

  it('2,000 rewrites of one tagged key leave one member in the tag set', async () => {
    for (let i = 0; i < 2000; i++) await cache.set('k', { rev: i }, { tags: ['hot'], ttl: '1h' })
    expect(server.cli('HLEN', setKey('hot'))).toBe('1')
    for (let i = 0; i < 200; i++) await cache.set(`k${i % 10}`, i, { tags: ['hot'] })
    expect(server.cli('HLEN', setKey('hot'))).toBe('11')
    expect(await cache.deleteByTag('hot')).toBe(11)
    expect(server.cli('EXISTS', setKey('hot'))).toBe('0')
  })

  it('a tag set expires no sooner than its longest-lived member, and then goes', async () => {
    await cache.set('a', 1, { tags: ['brief'], ttl: 300 })
    await cache.set('b', 1, { tags: ['brief'], ttl: 600 })
    const left = Number(server.cli('PTTL', setKey('brief')))
    expect(left).toBeGreaterThan(400)
    expect(left).toBeLessThanOrEqual(600)
    await new Promise((r) => setTimeout(r, 700))
    expect(server.cli('EXISTS', setKey('brief'))).toBe('0')
  })

  it('a tagged counter is still deleted by its tag after incr', async () => {
    await cache.set('views', 1, { tags: ['counter'] })
    expect(server.cli('EXISTS', counterKey(cache.makeKey('views')) as string)).toBe('1')
    expect(await cache.incr('views', 5)).toBe(6)
    expect(await cache.deleteByTag('counter')).toBe(1)
    expect(await cache.get('views')).toBeUndefined()
    // A counter created by incr with tags (store level) answers to them too.
    const key = cache.makeKey('created')
    expect(await store.incr(key, 2, { ttl: null, tags: [cache.makeKey('counter')] })).toBe(2)
    expect(await store.incr(key, 3, { ttl: null })).toBe(5)
    expect(await cache.deleteByTag('counter')).toBe(1)
    expect(await cache.get('created')).toBeUndefined()
    // Rewritten without the tag, then incremented: no longer the tagged counter, it survives.
    await cache.set('moved', 1, { tags: ['counter'] })
    await cache.set('moved', 10)
    expect(await cache.incr('moved')).toBe(11)
    expect(await cache.deleteByTag('counter')).toBe(0)
    expect(await cache.get('moved')).toBe(11)
    expect(server.cli('EXISTS', counterKey(cache.makeKey('moved')) as string)).toBe('0')
  })

  it('an entry rewritten without its tag survives deleteByTag', async () => {
    await cache.set('moved', 'tagged', { tags: ['old'] })
    await cache.set('moved', 'untagged')
    expect(await cache.deleteByTag('old')).toBe(0)
    expect(await cache.get('moved')).toBe('untagged')
  })

  it('reads and converts tag sets written by earlier versions (Redis sets)', async () => {
    await cache.set('legacy', 'v')
    const bytes = (await store.get(cache.makeKey('legacy'))) as Buffer
    server.cli('SADD', setKey('legacy'), fingerprint(bytes) + cache.makeKey('legacy'))
    await cache.set('fresh', 'w', { tags: ['legacy'] }) // converts the set to a hash
    expect(server.cli('TYPE', setKey('legacy'))).toBe('hash')
    expect(server.cli('HLEN', setKey('legacy'))).toBe('2')
    expect(await cache.deleteByTag('legacy')).toBe(2)
    server.cli('SADD', setKey('still-old'), fingerprint(bytes) + cache.makeKey('legacy'))
    await cache.set('legacy', 'v')
    expect(await cache.deleteByTag('still-old')).toBe(1)
  })

  it('a TTL beyond 100 years is refused with E_INVALID_TTL before reaching Redis', async () => {
    const key = cache.makeKey('huge')
    for (const ttl of [1e20, MAX_TTL + 1, Number.POSITIVE_INFINITY]) {
      const refused = { code: 'E_INVALID_TTL' }
      await expect(async () => store.set(key, Buffer.from('x'), { ttl })).rejects.toMatchObject(refused)
      await expect(async () => store.add(key, Buffer.from('x'), { ttl })).rejects.toMatchObject(refused)
      await expect(async () => store.incr(key, 1, { ttl })).rejects.toMatchObject(refused)
      await expect(async () => store.touch(key, ttl)).rejects.toMatchObject(refused)
    }
    expect(server.cli('EXISTS', key)).toBe('0') // no counter without expiry was created
    expect(await store.incr(key, 1, { ttl: MAX_TTL })).toBe(1)
    expect(Number(server.cli('PTTL', key))).toBeGreaterThan(MAX_TTL - 60_000)
  })
})
