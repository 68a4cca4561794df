import { describe, expect, it } from 'vitest'
import { createCache, memoryBus, memoryStore, type Store } from '../../src/index.js'
import { bytesMapStoreWithTtl } from '../support/bytes-store.js'
import { cacheMaker, closing } from '../support/caches.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const STORES: [string, () => Store][] = [
  ['memory store', () => memoryStore() as Store],
  ['bytes store (codec)', () => bytesMapStoreWithTtl() as Store],
]

describe.each(STORES)('cache.expire on a %s', (_name, makeStore) => {
  const make = cacheMaker()

  it('makes one entry stale: get misses, getOrSet serves it while one refresh runs', async () => {
    const cache = make({ store: makeStore() })
    await cache.set('a', { v: 1 }, { ttl: '1h' })
    await cache.set('b', { v: 'kept' }, { ttl: '1h' })
    expect(await cache.expire('a')).toBe(true)
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.has('a')).toBe(false)
    expect(await cache.get('b')).toEqual({ v: 'kept' })
    const left = await cache.ttl('a')
    expect(typeof left === 'number' && left > 3_500_000).toBe(true)
    let calls = 0
    const refresh = async () => {
      calls++
      return { v: 2 }
    }
    expect(await cache.getOrSet('a', refresh)).toEqual({ v: 1 })
    for (let i = 0; i < 100 && (await cache.get('a')) === undefined; i++) await sleep(10)
    expect(await cache.get('a')).toEqual({ v: 2 })
    expect(calls).toBe(1)
  })

  it('is false for a missing key and removes a bare counter', async () => {
    const cache = make({ store: makeStore() })
    expect(await cache.expire('absent')).toBe(false)
    await cache.incr('counter', 5)
    expect(await cache.expire('counter')).toBe(true)
    expect(await cache.get('counter')).toBeUndefined()
    expect(await cache.getOrSet('counter', () => 'fresh')).toBe('fresh')
  })

  it('keeps a graced entry stale without moving its hard expiry, and twice is harmless', async () => {
    const cache = make({ store: makeStore() })
    await cache.getOrSet('g', () => 'old', { ttl: '1m', grace: '1h' })
    const before = await cache.ttl('g')
    expect(await cache.expire('g')).toBe(true)
    expect(await cache.expire('g')).toBe(true)
    expect(await cache.get('g')).toBeUndefined()
    const after = await cache.ttl('g')
    expect(typeof before === 'number' && typeof after === 'number' && before - after < 1000).toBe(true)
    expect(await cache.getOrSet('g', () => 'new', { ttl: '1m', grace: '1h' })).toBe('old')
  })

  it('stays in its namespace', async () => {
    const cache = make({ store: makeStore(), prefix: 'p' })
    await cache.set('k', 'root')
    await cache.namespace('n').set('k', 'inner')
    expect(await cache.namespace('n').expire('k')).toBe(true)
    expect(await cache.get('k')).toBe('root')
    expect(await cache.namespace('n').get('k')).toBeUndefined()
  })
})

describe('cache.expire on tiers', () => {
  const keep = closing()

  it('keeps the tags the entry was written with (they travel in L2)', async () => {
    const cache = keep(createCache({ tiers: [memoryStore(), memoryStore()], bus: memoryBus() }))
    await cache.set('k', { v: 1 }, { ttl: '1h', tags: ['t'] })
    await cache.set('other', { v: 2 }, { ttl: '1h', tags: ['t'] })
    expect(await cache.expire('k')).toBe(true)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.deleteByTag('t')).toBe(2)
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh')
  })
})
