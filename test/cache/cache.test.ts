import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import {
  CacheError,
  type CacheEvent,
  CHANNELS,
  createCache,
  ImmutableValueError,
  InvalidOptionError,
  key,
  memoryStore,
  UnsupportedOperationError,
} from '../../src/index.js'
import { bytesMapStore } from '../support/bytes-store.js'
import { cacheMaker } from '../support/caches.js'

const make = cacheMaker()

describe('keys', () => {
  it('builds stable keys from a name and parameters', () => {
    expect(key('user_profile', { user_id: 123, lang: 'ru' })).toBe('user_profile:lang:ru:user_id:123')
    expect(key('user_profile', { lang: 'ru', user_id: 123 })).toBe('user_profile:lang:ru:user_id:123')
    expect(key('category_tree', { type: 'expense', user: 42, depth: 3 })).toBe(
      'category_tree:depth:3:type:expense:user:42',
    )
    expect(key('x', { a: undefined, b: null, c: ['1', 2] })).toBe("x:b:null:c:['1,2]")
    expect(key('x', { a: 'p:q%' })).toBe('x:a:p%3Aq%25')
    expect(() => key('', {})).toThrow(InvalidOptionError)
  })

  it('makeKey is the exact store key: prefix, namespaces, version', async () => {
    const cache = make({ prefix: 'hlvm' })
    expect(cache.makeKey('k')).toBe('hlvm:k')
    expect(cache.namespace('user').namespace('settings').makeKey('42')).toBe('hlvm:user:settings:42')
    expect(make({ prefix: 'app', version: 3 }).makeKey('k')).toBe('app:v3:k')
    expect(make().makeKey('k')).toBe('k')
  })

  it('a prefix or namespace with glob characters is matched literally by keys and patterns', async () => {
    const store = memoryStore()
    const odd = make({ store, prefix: 'p[x]*' })
    const near = make({ store, prefix: 'px' })
    await odd.namespace('n?').set('k1', 1)
    await odd.set('k2', 2)
    await near.set('k3', 3)
    expect((await collect(odd.keys())).sort()).toEqual(['k2', 'n?:k1'])
    expect(await odd.namespace('n?').deletePattern('*')).toBe(1)
    expect(await odd.deletePattern('*')).toBe(1)
    expect(await near.get('k3')).toBe(3)
  })

  it('rejects bad keys asynchronously, never with a synchronous throw', async () => {
    const cache = make()
    const bad = [undefined, null, 42, '', 'x'.repeat(1025), {}] as unknown as string[]
    for (const k of bad) {
      let pending: Promise<unknown> | undefined
      expect(() => {
        pending = cache.get(k)
      }).not.toThrow()
      await expect(pending).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      await expect(cache.set(k, 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    }
    await expect(make({ maxKeyLength: 10 }).get('x'.repeat(11))).rejects.toMatchObject({
      code: 'E_INVALID_KEY',
    })
  })

  it('errors name the key and have a stable code', async () => {
    const cache = make()
    // @ts-expect-error not a duration
    const error = await cache.set('user:1', 1, { ttl: 'soon' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CacheError)
    expect(error).toMatchObject({ code: 'E_INVALID_TTL', key: 'user:1' })
    expect((error as Error).message).toContain('user:1')
    expect((error as Error).message).toContain("'5m'")
  })
})

describe('ttl', () => {
  it('accepts numbers of ms and duration strings', async () => {
    const cache = make()
    for (const [ttl, ms] of [
      [250, 250],
      ['250ms', 250],
      ['5s', 5000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['1h30m', 5_400_000],
    ] as const) {
      await cache.set('k', 1, { ttl })
      const left = (await cache.ttl('k')) as number
      expect(left).toBeGreaterThan(ms - 50)
      expect(left).toBeLessThanOrEqual(ms)
    }
  })

  it('uses the cache default TTL, overridable per namespace and per call', async () => {
    const cache = make({ ttl: '5m' })
    await cache.set('a', 1)
    expect(await cache.ttl('a')).toBeGreaterThan(299_000)
    const ns = cache.namespace('short', { ttl: '1m' })
    await ns.set('b', 1)
    expect(await ns.ttl('b')).toBeLessThanOrEqual(60_000)
    await cache.set('c', 1, { ttl: null })
    expect(await cache.ttl('c')).toBeNull()
    expect(
      await make()
        .set('d', 1)
        .then(() => undefined),
    ).toBeUndefined()
  })

  it('rejects bad TTLs in options and factories', async () => {
    await expect(make().incr('n', 1, { ttl: 0 })).rejects.toMatchObject({ code: 'E_INVALID_TTL' })
    expect(() => createCache({ store: memoryStore(), ttl: '-5m' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_TTL' }),
    )
    // @ts-expect-error not a duration
    await expect(make().touch('k', 'later')).rejects.toMatchObject({ code: 'E_INVALID_TTL' })
  })
})

describe('memory store', () => {
  it('evicts the least recently used entry, and a read counts as a use', async () => {
    const cache = make({ store: memoryStore({ maxEntries: 3 }) })
    await cache.setMany({ a: 1, b: 2, c: 3 })
    await cache.get('a')
    await cache.set('d', 4)
    expect(await cache.has('b')).toBe(false)
    expect([...(await cache.getMany(['a', 'c', 'd'])).keys()]).toEqual(['a', 'c', 'd'])
    expect(cache.stats().evictions).toBe(1)
  })

  it('bounds bytes when maxBytes is set', async () => {
    const store = memoryStore({ maxBytes: 10_000 })
    const cache = make({ store })
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, 'x'.repeat(500))
    const stats = cache.stats()
    expect(stats.store.bytes).toBeLessThanOrEqual(10_000)
    expect(stats.evictions).toBeGreaterThan(30)
    expect(await cache.get('k49')).toBe('x'.repeat(500))
  })

  it('expires on time even when a busy promise chain never lets a timer run', async () => {
    const cache = make()
    await cache.set('k', 'v', { ttl: 50 })
    const started = Date.now()
    while (Date.now() - started < 120) await cache.get('k')
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('t', 'v', { ttl: 5000 })
    expect(await cache.ttl('t')).toBeLessThanOrEqual(5000)
  })

  it('refuses impossible bounds', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => memoryStore({ maxEntries: bad })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
      expect(() => memoryStore({ maxBytes: bad })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
    }
    expect(() => memoryStore({ mutation: 'deep' as 'freeze' })).toThrow(InvalidOptionError)
  })

  it("'freeze': a caller cannot change the cache by mutating what it got", async () => {
    const cache = make()
    const original = { list: [1], when: new Date(0), tags: new Set(['a']) }
    await cache.set('k', original)
    original.list.push(99)
    const first = (await cache.get('k')) as typeof original
    expect(() => first.list.push(2)).toThrow(TypeError)
    expect(() => first.when.setTime(123)).toThrow(ImmutableValueError)
    expect(() => first.tags.add('b')).toThrow(expect.objectContaining({ code: 'E_VALUE_IMMUTABLE' }))
    const second = (await cache.get('k')) as typeof original
    expect(second).toEqual({ list: [1], when: new Date(0), tags: new Set(['a']) })
    expect(Object.isFrozen(original)).toBe(false)
  })

  it("'clone': callers get mutable copies", async () => {
    const cache = make({ store: memoryStore({ mutation: 'clone' }) })
    await cache.set('k', { list: [1] })
    const first = (await cache.get('k')) as { list: number[] }
    first.list.push(2)
    expect(await cache.get('k')).toEqual({ list: [1] })
  })

  it("'reference': the caller's own object comes back", async () => {
    const cache = make({ store: memoryStore({ mutation: 'reference' }) })
    const value = { list: [1] }
    await cache.set('k', value)
    expect(await cache.get('k')).toBe(value)
  })

  it('a value that cannot be stored leaves a batch unwritten', async () => {
    const cache = make()
    await expect(cache.setMany({ a: 1, b: () => 2 })).rejects.toMatchObject({ code: 'E_VALUE_NOT_ENCODABLE' })
    expect(await cache.has('a')).toBe(false)
  })
})

describe('stats and events', () => {
  it('counts hits, misses, sets and deletes per namespace, with a hit rate from 0 to 1', async () => {
    const cache = make({ prefix: 'app' })
    const users = cache.namespace('user')
    expect(cache.stats().hitRate).toBe(0)
    await cache.set('a', 1)
    await cache.get('a')
    await cache.get('missing')
    await users.set('1', 1)
    await users.get('1')
    await users.get('1')
    await users.delete('1')
    const root = cache.stats()
    expect(root).toMatchObject({ hits: 3, misses: 1, sets: 2, deletes: 1, hitRate: 0.75 })
    expect(root.namespaces['user']).toMatchObject({ hits: 2, misses: 0, sets: 1, deletes: 1, hitRate: 1 })
    expect(users.stats()).toMatchObject({ hits: 2, sets: 1 })
  })

  it('publishes events on diagnostics_channel', async () => {
    const cache = make({ prefix: 'app' })
    const seen: CacheEvent[] = []
    const listener = (message: unknown) => seen.push(message as CacheEvent)
    diagnostics.subscribe(CHANNELS.hit, listener)
    diagnostics.subscribe(CHANNELS.miss, listener)
    try {
      await cache.set('a', 1)
      await cache.get('a')
      await cache.namespace('n').get('b')
    } finally {
      diagnostics.unsubscribe(CHANNELS.hit, listener)
      diagnostics.unsubscribe(CHANNELS.miss, listener)
    }
    expect(seen).toEqual([
      { type: 'hit', prefix: 'app', namespace: '', key: 'a' },
      { type: 'miss', prefix: 'app', namespace: 'n', key: 'b' },
    ])
  })

  it('counts an unreadable entry as a miss and an error', async () => {
    const store = bytesMapStore()
    const cache = make({ store, prefix: 'p' })
    await store.set('p:bad', Buffer.from('not a cachekit entry'), { ttl: null })
    await store.set('p:int', Buffer.from('17'), { ttl: null })
    expect(await cache.get('bad')).toBeUndefined()
    expect(await cache.get('int')).toBe(17)
    expect(cache.stats()).toMatchObject({ errors: 1, misses: 1, hits: 1 })
  })
})

describe('versions', () => {
  it('a version bump hides old entries; withVersion reads another version', async () => {
    const store = memoryStore()
    const v1 = make({ store, prefix: 'app', version: 1 })
    await v1.set('k', 'one')
    const v2 = make({ store, prefix: 'app', version: 2 })
    expect(await v2.get('k')).toBeUndefined()
    expect(await v2.withVersion(1).get('k')).toBe('one')
  })

  it('incrVersion keeps a grace period: the stale time stays, grace never becomes fresh time', async () => {
    let now = 1_700_000_000_000
    const clock = { now: () => now }
    const cache = make({ store: memoryStore({ clock }), clock, version: 1 })
    await cache.getOrSet('g', () => 'v', { ttl: 1000, grace: '1h' })
    expect(await cache.incrVersion('g')).toBe(2)
    const next = cache.withVersion(2)
    expect(await next.get('g')).toBe('v')
    now += 2000
    expect(await next.get('g')).toBeUndefined()
    expect(await next.getOrSet('g', async () => 'refreshed', { grace: '1h' })).toBe('v')
  })

  it('incrVersion moves a value to the next version', async () => {
    const cache = make({ prefix: 'app', version: 1 })
    await cache.set('k', 'value', { ttl: '1h' })
    expect(await cache.incrVersion('k')).toBe(2)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.withVersion(2).get('k')).toBe('value')
    expect(await cache.withVersion(2).ttl('k')).toBeGreaterThan(3_500_000)
    await expect(cache.incrVersion('absent')).rejects.toBeInstanceOf(CacheError)
    await expect(make().incrVersion('k')).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
  })

  it('clear removes every version', async () => {
    const store = memoryStore()
    const cache = make({ store, prefix: 'app', version: 1 })
    await cache.set('a', 1)
    await cache.withVersion(2).set('a', 2)
    await cache.clear()
    expect([...(await collect(make({ store }).keys()))]).toEqual([])
  })
})

describe('cached()', () => {
  it('caches a function by its arguments, with keyFor and invalidate', async () => {
    const cache = make({ prefix: 'svc' })
    let calls = 0
    const stats = cache.cached(
      async (userId: number, opts: { period: string }) => {
        calls++
        return { userId, period: opts.period, total: calls }
      },
      { key: 'user_stats', ttl: '10m' },
    )
    expect(stats.keyFor(42, { period: 'month' })).toBe('user_stats:42:{period=month}')
    expect(await stats(42, { period: 'month' })).toEqual({ userId: 42, period: 'month', total: 1 })
    expect(await stats(42, { period: 'month' })).toEqual({ userId: 42, period: 'month', total: 1 })
    expect(await stats(7, { period: 'month' })).toMatchObject({ total: 2 })
    expect(await stats.invalidate(42, { period: 'month' })).toBe(true)
    expect(await stats(42, { period: 'month' })).toMatchObject({ total: 3 })
  })

  it('decorates methods (TC39 decorators) with a key function and tags', async () => {
    const cache = make()
    const decorate = cache.cached({
      key: (id: number) => `course:${id}`,
      ttl: '1h',
      tags: (id: number) => [`course:${id}`],
    })
    // Vitest's transform does not lower decorator syntax; this is what `@cache.cached(...)` compiles to.
    class CourseService {
      calls = 0
      async load(id: number) {
        this.calls++
        return { id, title: `Course ${id}` }
      }
    }
    CourseService.prototype.load = decorate(CourseService.prototype.load, {
      kind: 'method',
      name: 'load',
    } as ClassMethodDecoratorContext<CourseService>) as CourseService['load']
    const service = new CourseService()
    await service.load(1)
    await service.load(1)
    expect(service.calls).toBe(1)
    await cache.deleteByTag('course:1')
    await service.load(1)
    expect(service.calls).toBe(2)
  })

  it('refuses a missing key option', () => {
    const cache = make()
    expect(() => cache.cached(async () => 1, {} as never)).toThrow(InvalidOptionError)
  })
})

describe('lifecycle', () => {
  it('closes namespaces with the root, and the store with the last cache', async () => {
    const store = memoryStore()
    const a = createCache({ store })
    const b = createCache({ store })
    const ns = a.namespace('n')
    await a.close()
    await expect(ns.get('k')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
    await b.set('k', 1)
    expect(await b.get('k')).toBe(1)
    await b.close()
    expect(() => store.get('k')).toThrow(expect.objectContaining({ code: 'E_CACHE_CLOSED' }))
  })

  it('namespaces made per request are not retained, and their stats stay bounded', async () => {
    const cache = make()
    for (let i = 0; i < 1500; i++) await cache.namespace(`user:${i}`).set('k', i)
    const stats = cache.stats()
    expect(Object.keys(stats.namespaces).length).toBeLessThanOrEqual(1000)
    expect(stats.sets).toBe(1500)
    const child = cache.namespace('n')
    await child.close()
    await expect(child.get('k')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
    expect(() => child.namespace('deeper')).toThrow(expect.objectContaining({ code: 'E_CACHE_CLOSED' }))
    expect(await cache.namespace('n').get('k')).toBeUndefined()
  })

  it('refuses a store that does not meet the contract', () => {
    expect(() => createCache({ store: {} as never })).toThrow(InvalidOptionError)
    expect(() => createCache(undefined as never)).toThrow(InvalidOptionError)
  })

  it('reports an operation the store lacks with E_UNSUPPORTED', async () => {
    const cache = make({ store: bytesMapStore() })
    await expect(cache.deleteByTag('t')).rejects.toBeInstanceOf(UnsupportedOperationError)
  })
})

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const item of iterable) out.push(item)
  return out
}
