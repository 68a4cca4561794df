import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../../src/index.js'
import { type RedisStore, redisStore } from '../../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

describe.skipIf(!redisAvailable())('redisStore: the cache contract on a real Redis', () => {
  const server = useRedisServer()
  let store: RedisStore
  let cache: Cache
  let other: Cache
  let n = 0

  beforeAll(async () => {
    store = redisStore({ url: server.url, timeout: 1000 })
  })
  afterAll(async () => {
    await store?.close()
  })
  beforeEach(() => {
    n++
    cache = createCache({ store, prefix: `t${n}` })
    other = createCache({ store, prefix: `o${n}` })
  })

  it('gets, sets and deletes, with values coming back exactly', async () => {
    const value = {
      when: new Date('2024-01-02T03:04:05.678Z'),
      big: 12345678901234567890n,
      map: new Map<string, unknown>([['a', 1]]),
      set: new Set([1, 2]),
      bytes: new Uint8Array([1, 2, 3]),
      nothing: null,
      missing: undefined,
    }
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('k', value)
    expect(await cache.get('k')).toEqual(value)
    await cache.set('u', undefined)
    expect(await cache.has('u')).toBe(true)
    expect(await cache.get('u')).toBeUndefined()
    expect(server.cli('EXISTS', cache.makeKey('k'))).toBe('1')
    expect(await cache.delete('k')).toBe(true)
    expect(await cache.delete('k')).toBe(false)
    expect(await cache.has('k')).toBe(false)
  })

  it('expires entries by TTL and reports ttl/touch', async () => {
    await cache.set('short', 1, { ttl: 80 })
    const left = await cache.ttl('short')
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(80)
    await cache.set('forever', 1)
    expect(await cache.ttl('forever')).toBeNull()
    expect(await cache.ttl('nope')).toBeUndefined()
    expect(await cache.touch('forever', '1m')).toBe(true)
    expect(await cache.ttl('forever')).toBeGreaterThan(59_000)
    expect(await cache.touch('forever', null)).toBe(true)
    expect(await cache.ttl('forever')).toBeNull()
    expect(await cache.touch('nope', '1m')).toBe(false)
    expect(await cache.touch('nope', null)).toBe(false)
    await new Promise((r) => setTimeout(r, 120))
    expect(await cache.get('short')).toBeUndefined()
  })

  it('adds only when absent, atomically across callers', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => cache.add('lock', i, { ttl: '1m' })),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await cache.ttl('lock')).toBeGreaterThan(59_000)
    expect(await cache.add('lock', 'x')).toBe(false)
  })

  it('increments atomically, with the TTL set only on creation', async () => {
    expect(await cache.incr('hits', 1, { ttl: '1m' })).toBe(1)
    await Promise.all(Array.from({ length: 50 }, () => cache.incr('hits')))
    expect(await cache.get('hits')).toBe(51)
    expect(await cache.decr('hits', 11)).toBe(40)
    const left = await cache.ttl('hits')
    expect(left).toBeGreaterThan(59_000)
    await cache.touch('hits', '2h')
    await cache.incr('hits', 1, { ttl: '1m' })
    expect(await cache.ttl('hits')).toBeGreaterThan(3_600_000)
    await cache.set('n', 10)
    expect(await cache.incr('n', 5)).toBe(15)
    await cache.set('s', 'text')
    await expect(cache.incr('s')).rejects.toMatchObject({ code: 'E_NOT_INTEGER' })
    await cache.set('max', Number.MAX_SAFE_INTEGER)
    await expect(cache.incr('max')).rejects.toMatchObject({ code: 'E_NOT_INTEGER' })
    expect(await cache.get('max')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('getMany is one MGET and setMany writes all with one TTL', async () => {
    await cache.setMany({ a: 1, b: 'two', c: [3] }, { ttl: '1m' })
    const found = await cache.getMany(['a', 'b', 'c', 'zz'])
    expect([...found]).toEqual([
      ['a', 1],
      ['b', 'two'],
      ['c', [3]],
    ])
    expect(await cache.ttl('c')).toBeGreaterThan(59_000)
    expect(await cache.deleteMany(['a', 'b', 'zz'])).toBe(2)
    expect((await cache.getMany([])).size).toBe(0)
  })

  it('keys, deletePattern and clear stay inside the prefix', async () => {
    await cache.setMany({ 'user:1': 1, 'user:2': 2, 'post:1': 3 })
    await other.set('user:1', 'theirs')
    const keys: string[] = []
    for await (const key of cache.keys('user:*')) keys.push(key)
    expect(keys.sort()).toEqual(['user:1', 'user:2'])
    expect(await cache.deletePattern('user:*')).toBe(2)
    expect(await cache.get('post:1')).toBe(3)
    await cache.clear()
    expect(await cache.get('post:1')).toBeUndefined()
    expect(await other.get('user:1')).toBe('theirs')
  })

  it('deletePattern works over many keys in batches', async () => {
    const entries: Record<string, number> = {}
    for (let i = 0; i < 5000; i++) entries[`bulk:${i}`] = i
    await cache.setMany(entries)
    expect(await cache.deletePattern('bulk:*')).toBe(5000)
    expect(server.cli('DBSIZE')).not.toBe('')
  })

  it('invalidates by tag without touching other keys, and hides bookkeeping keys', async () => {
    await cache.set('a', 1, { tags: ['user:42'] })
    await cache.set('b', 2, { tags: ['user:42', 'team:1'], ttl: '1m' })
    await cache.setMany({ c: 3 }, { tags: ['team:1'] })
    await cache.add('d', 4, { tags: ['user:42'] })
    await cache.set('e', 5)
    await other.set('a', 'theirs', { tags: ['user:42'] })
    const keys: string[] = []
    for await (const key of cache.keys()) keys.push(key)
    expect(keys.sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
    const unprefixed = createCache({ store })
    const all: string[] = []
    for await (const key of unprefixed.keys()) all.push(key)
    expect(all.some((key) => key.startsWith('__cachekit:'))).toBe(false)
    expect(server.cli('EXISTS', `__cachekit:tag:${cache.makeKey('user:42')}`)).toBe('1')
    expect(await cache.deleteByTag('user:42')).toBe(3)
    expect(await cache.get('c')).toBe(3)
    expect(await cache.get('e')).toBe(5)
    expect(await other.get('a')).toBe('theirs')
    expect(await cache.deleteByTag('user:42')).toBe(0)
    expect(await cache.deleteByTag('team:1')).toBe(1)
    expect(await unprefixed.set('__cachekit:x', 1).catch((e) => e.code)).toBe('E_INVALID_KEY')
  })

  it('tag sets live as long as their longest-lived entry', async () => {
    await cache.set('short', 1, { ttl: 1000, tags: ['t'] })
    const setKey = `__cachekit:tag:${cache.makeKey('t')}`
    expect(Number(server.cli('PTTL', setKey))).toBeGreaterThan(500)
    await cache.set('long', 1, { ttl: '1h', tags: ['t'] })
    expect(Number(server.cli('PTTL', setKey))).toBeGreaterThan(3_000_000)
    await cache.set('forever', 1, { tags: ['t'] })
    expect(server.cli('PTTL', setKey)).toBe('-1')
  })

  it('refuses values over maxValueBytes', async () => {
    const small = redisStore({ url: server.url, maxValueBytes: 1024 })
    const c = createCache({ store: small, prefix: `big${n}` })
    await expect(c.set('k', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' })
    await c.set('k', 'x'.repeat(100))
    expect(await c.get('k')).toBe('x'.repeat(100))
    await c.close()
  })

  it('reads a corrupt value as a miss and counts an error', async () => {
    server.cli('SET', cache.makeKey('bad'), '\xc1\x7fgarbage')
    server.cli('SET', cache.makeKey('foreign'), 'hello world')
    expect(await cache.get('bad')).toBeUndefined()
    expect(await cache.get('foreign')).toBeUndefined()
    expect(cache.stats().errors).toBe(2)
    expect(await cache.getOrSet('foreign', () => 'fresh')).toBe('fresh')
  })

  it('reports INFO figures through inspect()', async () => {
    await cache.set('x', 1)
    await cache.get('x')
    const info = await store.inspect()
    expect(info.topology).toBe('standalone')
    expect(info.connectedClients).toBeGreaterThanOrEqual(1)
    expect(info.usedMemory).toBeGreaterThan(0)
    expect(info.usedMemoryHuman).toMatch(/\d/)
    expect(info.maxmemoryPolicy).toBe('noeviction')
    expect(info.keyspaceHits).toBeGreaterThan(0)
    expect(info.hitRate).toBeGreaterThan(0)
    expect(info.hitRate).toBeLessThanOrEqual(1)
    expect(info.dbSize).toBeGreaterThan(0)
    expect(info.totalCommandsProcessed).toBeGreaterThan(0)
    expect(info.evictedKeys).toBe(0)
  })

  it('close() is idempotent and shared stores close with their last cache', async () => {
    const s = redisStore({ url: server.url })
    const c1 = createCache({ store: s, prefix: 'c1' })
    const c2 = createCache({ store: s, prefix: 'c2' })
    await c1.set('k', 1)
    await c1.close()
    expect(await c2.get('k')).toBeUndefined()
    await c2.close()
    await s.close()
    await s.close()
    await expect(s.get('x')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
  })
})
