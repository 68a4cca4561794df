import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable } from 'cacheable'
import Keyv, { type KeyvOptions } from 'keyv'
import * as vitest from 'vitest'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/cache/create.js'
import { createKeyv, KeyvCachekit, keyvStore } from '../../src/keyv/index.js'
import { memoryStore } from '../../src/stores/memory/index.js'
import type { Store } from '../../src/stores/types.js'

/** A Keyv whose `iterator()` is wired for KeyvCachekit, as `createKeyv` does it. */
class IterableKeyv extends Keyv {
  constructor(options?: KeyvOptions) {
    super(options)
    if (this.store instanceof KeyvCachekit) {
      this.iterator ??= this.generateIterator(this.store.iterator.bind(this.store))
    }
  }
}

/** The same with Keyv's JSON serialization off: values go to cachekit as they are. */
class NativeKeyv extends IterableKeyv {
  constructor(options?: KeyvOptions) {
    super({ serialize: undefined, deserialize: undefined, ...options })
  }
}

const suiteCache = createCache({ store: memoryStore(), prefix: 'suite' })
const suiteStore = () => new KeyvCachekit(suiteCache)

describe('@keyv/test-suite', () => {
  keyvTestSuite(vitest, Keyv, suiteStore)
  keyvIteratorTests(vitest, IterableKeyv, suiteStore)
})

describe('@keyv/test-suite, Keyv serialization off (cachekit codec keeps the values)', () => {
  const cache = createCache({ store: memoryStore(), prefix: 'native' })
  const store = () => new KeyvCachekit(cache)
  keyvTestSuite(vitest, NativeKeyv, store)
  keyvIteratorTests(vitest, NativeKeyv, store)
})

describe('KeyvCachekit', () => {
  it('round-trips values through Keyv over a memory store, keys under the cache prefix', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'app' })
    const keyv = new Keyv({ store: new KeyvCachekit(cache) })
    const value = { name: 'Ada', tags: ['a', 'b'], nested: { n: 1, nil: null } }
    expect(await keyv.set('user:1', value)).toBe(true)
    expect(await keyv.get('user:1')).toEqual(value)
    expect(await keyv.has('user:1')).toBe(true)
    expect(await keyv.get(['user:1', 'missing'])).toEqual([value, undefined])
    expect(await cache.has('keyv:user:1')).toBe(true)
    expect(cache.makeKey('keyv:user:1')).toBe('app:keyv:user:1')
    expect(await keyv.delete('user:1')).toBe(true)
    expect(await keyv.get('user:1')).toBeUndefined()
    expect(await keyv.delete('user:1')).toBe(false)
  })

  it('keeps Date, Map, BigInt and Uint8Array with createKeyv (serialization off)', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'app' })
    const keyv = createKeyv(cache)
    const value = {
      at: new Date('2024-05-01T10:00:00Z'),
      map: new Map([['k', 1]]),
      big: 2n ** 70n,
      bytes: new Uint8Array([1, 2, 3]),
      missing: undefined,
    }
    await keyv.set('v', value)
    const back = (await keyv.get('v')) as typeof value
    expect(back.at).toBeInstanceOf(Date)
    expect(back.at.getTime()).toBe(value.at.getTime())
    expect(back.map.get('k')).toBe(1)
    expect(back.big).toBe(2n ** 70n)
    expect([...back.bytes]).toEqual([1, 2, 3])
    expect('missing' in back).toBe(true)
    // Keyv's default JSON serialization, for comparison, turns the Date into a string.
    const plain = new Keyv({ store: new KeyvCachekit(cache), namespace: 'plain' })
    await plain.set('v', { at: value.at })
    expect(typeof (await plain.get('v')).at).toBe('string')
  })

  it('expires entries after the Keyv TTL in the store itself, not only in Keyv', async () => {
    // Only the store's clock moves: Keyv's own `expires` check never fires, so a miss proves the
    // cachekit entry carries the Keyv TTL.
    let now = Date.now()
    const clock = { now: () => now }
    const cache = createCache({ store: memoryStore({ clock }), prefix: 'ttl', clock })
    const keyv = new Keyv({ store: new KeyvCachekit(cache) })
    await keyv.set('short', 'x', 1000)
    await keyv.set('long', 'y')
    expect(await cache.ttl('keyv:short')).toBe(1000)
    expect(await cache.ttl('keyv:long')).toBeNull()
    now += 1001
    expect(await cache.has('keyv:short')).toBe(false)
    expect(await keyv.get('short')).toBeUndefined()
    expect(await keyv.has('short')).toBe(false)
    expect(await keyv.get('long')).toBe('y')
  })

  it('expires entries in real time', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'ttl2' })
    const keyv = createKeyv(cache)
    await keyv.set('k', 'v', 30)
    expect(await keyv.get('k')).toBe('v')
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(await keyv.get('k')).toBeUndefined()
    expect(await cache.has('keyv:k')).toBe(false)
  })

  it('a Keyv write without TTL takes the cache default TTL', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'dflt', ttl: '5m' })
    const keyv = new Keyv({ store: new KeyvCachekit(cache) })
    await keyv.set('a', 1)
    await keyv.set('b', 2, 0)
    await keyv.set('c', 3, 2000)
    for (const key of ['keyv:a', 'keyv:b']) {
      const left = await cache.ttl(key)
      expect(left).toBeGreaterThan(290_000)
      expect(left).toBeLessThanOrEqual(300_000)
    }
    expect(await cache.ttl('keyv:c')).toBeLessThanOrEqual(2000)
  })

  it('setMany groups entries by TTL', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'many' })
    const keyv = new Keyv({ store: new KeyvCachekit(cache) })
    await keyv.setMany([
      { key: 'a', value: 1, ttl: 60_000 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3, ttl: 60_000 },
    ])
    expect(await keyv.getMany(['a', 'b', 'c', 'd'])).toEqual([1, 2, 3, undefined])
    expect(await cache.ttl('keyv:a')).toBeGreaterThan(59_000)
    expect(await cache.ttl('keyv:b')).toBeNull()
    expect(await keyv.hasMany(['a', 'd'])).toEqual([true, false])
    expect(await keyv.deleteMany(['a', 'b'])).toBe(true)
    expect(await keyv.deleteMany(['a', 'b'])).toBe(false)
  })

  it('isolates two Keyv namespaces over one cache; clear() of one leaves the other', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'app' })
    const sessions = new Keyv({ store: new KeyvCachekit(cache), namespace: 'sessions' })
    const users = new Keyv({ store: keyvStore(cache), namespace: 'users' })
    await cache.set('outside', 'kept')
    await sessions.set('1', 'session one')
    await sessions.set('2', 'session two')
    await users.set('1', 'user one')
    expect(await sessions.get('1')).toBe('session one')
    expect(await users.get('1')).toBe('user one')

    await sessions.clear()
    expect(await sessions.get('1')).toBeUndefined()
    expect(await sessions.get('2')).toBeUndefined()
    expect(await users.get('1')).toBe('user one')
    expect(await cache.get('outside')).toBe('kept')
  })

  it('clear() without a namespace removes only the cache prefix, never another cache', async () => {
    const store = memoryStore()
    const mine = createCache({ store, prefix: 'mine' })
    const other = createCache({ store, prefix: 'other' })
    await other.set('k', 'safe')
    const keyv = new Keyv({ store: new KeyvCachekit(mine), namespace: undefined })
    await keyv.set('k', 'gone')
    expect(await mine.has('k')).toBe(true)
    await keyv.clear()
    expect(await mine.has('k')).toBe(false)
    expect(await other.get('k')).toBe('safe')
  })

  it('iterates one namespace, with createKeyv or the adapter directly', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'it' })
    const a = createKeyv(cache, { namespace: 'a' })
    await a.set('x', 1)
    await a.set('y', 2)
    const b = createKeyv(cache, { namespace: 'b' })
    await b.set('x', 3)
    const seen: Array<[string, unknown]> = []
    for await (const [key, value] of b.iterator!(undefined)) seen.push([key, value])
    expect(seen).toEqual([['x', 3]])

    const store = new KeyvCachekit(cache)
    const keys: unknown[] = []
    for await (const [key] of store.iterator('a')) keys.push(key)
    expect(keys.sort()).toEqual(['a:x', 'a:y'])
  })

  it('iterates more entries than one batch', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'big' })
    const keyv = createKeyv(cache)
    await keyv.setMany(Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, value: i })))
    let count = 0
    for await (const [, value] of keyv.iterator!(undefined)) if (typeof value === 'number') count++
    expect(count).toBe(250)
  })

  it('reports failures as error events and misses, or rejects with throwOnErrors', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'err' })
    const keyv = new Keyv({ store: new KeyvCachekit(cache) })
    const errors: unknown[] = []
    keyv.on('error', (error: unknown) => errors.push(error))
    await cache.close()
    expect(await keyv.get('a')).toBeUndefined()
    expect(await keyv.set('a', 1)).toBe(false)
    expect(await keyv.has('a')).toBe(false)
    expect(errors.length).toBeGreaterThanOrEqual(3)
    expect(errors[0]).toMatchObject({ code: 'E_CACHE_CLOSED' })

    const strict = new KeyvCachekit(cache, { throwOnErrors: true })
    await expect(strict.get('a')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
    // No listener: the adapter must not turn the failure into an unhandled 'error' event.
    expect(await new KeyvCachekit(cache).get('a')).toBeUndefined()
  })

  it('disconnect() closes the cache it was given, not its root', async () => {
    const store: Store = memoryStore()
    const root = createCache({ store, prefix: 'root' })
    const keyv = new Keyv({ store: new KeyvCachekit(root.namespace('keyv')) })
    await keyv.set('a', 1)
    await keyv.disconnect()
    await root.set('still', 'open')
    expect(await root.get('still')).toBe('open')
  })

  it('rejects something that is not a cache', () => {
    expect(() => new KeyvCachekit({} as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })
})

describe('cache-manager 7 over KeyvCachekit', () => {
  it('get, set, del, mget, ttl and wrap', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'cm' })
    const manager = createCacheManager({ stores: [new Keyv({ store: new KeyvCachekit(cache) })] })
    await manager.set('a', { n: 1 }, 60_000)
    expect(await manager.get('a')).toEqual({ n: 1 })
    expect(await manager.ttl('a')).toBeGreaterThan(Date.now())
    expect(await manager.mget(['a', 'b'])).toEqual([{ n: 1 }, undefined])

    let calls = 0
    const load = async () => {
      calls++
      return { loaded: calls }
    }
    const [first, second] = await Promise.all([
      manager.wrap('w', load, 60_000),
      manager.wrap('w', load, 60_000),
    ])
    expect(first).toEqual({ loaded: 1 })
    expect(second).toEqual({ loaded: 1 })
    expect(await manager.wrap('w', load, 60_000)).toEqual({ loaded: 1 })
    expect(calls).toBe(1)
    expect(await cache.has('keyv:w')).toBe(true)

    await manager.del('a')
    expect(await manager.get('a')).toBeUndefined()
    await manager.clear()
    expect(await manager.get('w')).toBeUndefined()
    await manager.disconnect()
  })

  it('wrap() recomputes after the TTL', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'cmttl' })
    const manager = createCacheManager({ stores: [createKeyv(cache)] })
    let calls = 0
    const load = async () => ++calls
    expect(await manager.wrap('k', load, 30)).toBe(1)
    expect(await manager.wrap('k', load, 30)).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(await manager.wrap('k', load, 30)).toBe(2)
  })
})

describe('cacheable over KeyvCachekit', () => {
  it('uses the adapter as its secondary store', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'cb' })
    const cacheable = new Cacheable({ secondary: new KeyvCachekit(cache), namespace: 'cb' })
    await cacheable.set('k', { v: 1 })
    expect(await cacheable.get('k')).toEqual({ v: 1 })
    const keys: string[] = []
    for await (const key of cache.keys()) keys.push(key)
    expect(keys.length).toBe(1)
    const fresh = new Cacheable({ secondary: new KeyvCachekit(cache), namespace: 'cb' })
    expect(await fresh.get('k')).toEqual({ v: 1 })
  })
})
