import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CacheError, dummyStore, InvalidKeyError, InvalidOptionError, memoryStore } from '../../src/index.js'
import { sqlStore } from '../../src/stores/sql/index.js'
import { cacheMaker } from '../support/caches.js'

const dir = mkdtempSync(join(tmpdir(), 'cachekit-parity-'))
let files = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// What users of Django's cache framework reach for: DummyCache, get(key, default),
// decr_version, get_or_set(key, default) and touch(key) with the default timeout.

const make = cacheMaker()

describe('dummyStore', () => {
  it('keeps nothing: reads miss, writes are accepted, getOrSet always computes', async () => {
    const cache = make({ store: dummyStore(), prefix: 'app', ttl: '5m' })
    await cache.set('a', 1)
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('a', 'fallback')).toBe('fallback')
    expect(await cache.has('a')).toBe(false)
    expect(await cache.add('a', 1)).toBe(true)
    expect(await cache.incr('n', 3)).toBe(3)
    expect(await cache.incr('n', 3)).toBe(3)
    expect(await cache.touch('a', '1m')).toBe(false)
    expect(await cache.ttl('a')).toBeUndefined()
    expect(await cache.delete('a')).toBe(false)
    expect(await cache.deletePattern('*')).toBe(0)
    expect(await cache.deleteByTag('t')).toBe(0)
    await cache.setMany({ x: 1, y: 2 })
    expect((await cache.getMany(['x', 'y'])).size).toBe(0)
    const keys: string[] = []
    for await (const k of cache.keys()) keys.push(k)
    expect(keys).toEqual([])
    let calls = 0
    expect(await cache.getOrSet('k', () => ++calls)).toBe(1)
    expect(await cache.getOrSet('k', () => ++calls)).toBe(2)
    await cache.clear()
    expect(cache.stats().misses).toBeGreaterThan(0)
  })

  it('still rejects bad input, as the real stores do', async () => {
    const cache = make({ store: dummyStore() })
    await expect(cache.set('', 1)).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(cache.get('')).rejects.toBeInstanceOf(InvalidKeyError)
  })
})

describe.each([
  ['memory', () => memoryStore()],
  [
    'SQLite (a byte store: the codec path)',
    () => sqlStore({ dialect: 'sqlite', filename: join(dir, `c${files++}.db`) }),
  ],
])('Django parity on %s', (_name, store) => {
  it('get(key, default) answers the default on a miss only', async () => {
    const cache = make({ store: store() })
    expect(await cache.get('missing', 42)).toBe(42)
    await cache.set('zero', 0)
    await cache.set('null', null)
    await cache.set('undef', undefined)
    expect(await cache.get('zero', 42)).toBe(0)
    expect(await cache.get('null', 42)).toBeNull()
    // A stored undefined is a value, not a miss.
    expect(await cache.get('undef', 42)).toBeUndefined()
    const stats = cache.stats()
    expect(stats.misses).toBe(1)
    expect(stats.hits).toBe(3)
    await expect(cache.get('', 1)).rejects.toBeInstanceOf(InvalidKeyError)
  })

  it('getOrSet takes a plain value as well as a factory', async () => {
    const cache = make({ store: store() })
    expect(await cache.getOrSet('settings', { theme: 'dark' })).toEqual({ theme: 'dark' })
    expect(await cache.getOrSet('settings', { theme: 'light' })).toEqual({ theme: 'dark' })
    expect(await cache.getOrSet('n', 0, { ttl: '1m' })).toBe(0)
    expect(await cache.ttl('n')).toBeGreaterThan(59_000)
    expect(await cache.getOrSet('f', () => 'made')).toBe('made')
  })

  it('touch(key) without a TTL gives the default TTL (the namespace one first)', async () => {
    const cache = make({ store: store(), ttl: '5m' })
    await cache.set('k', 1, { ttl: '10s' })
    expect(await cache.touch('k')).toBe(true)
    expect(await cache.ttl('k')).toBeGreaterThan(290_000)
    const short = cache.namespace('short', { ttl: '1m' })
    await short.set('k', 1, { ttl: '1s' })
    expect(await short.touch('k')).toBe(true)
    const left = await short.ttl('k')
    expect(left).toBeGreaterThan(50_000)
    expect(left).toBeLessThanOrEqual(60_000)
    expect(await cache.touch('missing')).toBe(false)
  })

  it('decrVersion moves a value back a version, never below 0', async () => {
    const cache = make({ store: store(), version: 2 })
    await cache.set('report', 'v2')
    expect(await cache.decrVersion('report')).toBe(1)
    expect(await cache.get('report')).toBeUndefined()
    expect(await cache.withVersion(1).get('report')).toBe('v2')
    const v0 = cache.withVersion(0)
    await v0.set('old', 1)
    await expect(v0.decrVersion('old')).rejects.toBeInstanceOf(InvalidOptionError)
    expect(await v0.get('old')).toBe(1)
    await expect(cache.decrVersion('missing')).rejects.toBeInstanceOf(CacheError)
  })
})
