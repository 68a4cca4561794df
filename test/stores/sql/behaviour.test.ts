import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import type { SqlStore } from '../../../src/stores/sql/index.js'
import { sleep, uniqueTable } from '../../support/sql-servers.js'
import { type Target, targets } from '../../support/sql-targets.js'

const all = await targets()

describe.each(all.map((target) => [target.name, target] as const))('sql store behaviour: %s', (_, target) => {
  let table: string
  const stores: SqlStore[] = []
  const open = (options: Parameters<Target['store']>[0] = {}) => {
    const store = target.store({ table, pruneInterval: false, ...options })
    stores.push(store)
    return store
  }
  const count = async (which = table) =>
    Number((await target.raw(`SELECT COUNT(*) AS n FROM "${which}"`))[0]?.['n'])

  beforeEach(() => {
    table = uniqueTable()
  })
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
    await target.drop(table)
  })
  afterAll(() => target.close())

  describe('migrate', () => {
    it('creates the tables once and is idempotent, also when run concurrently', async () => {
      const stores = [
        open({ autoMigrate: false }),
        open({ autoMigrate: false }),
        open({ autoMigrate: false }),
      ]
      await Promise.all(stores.map((store) => store.migrate()))
      const cache = createCache({ store: stores[0] as SqlStore })
      await cache.set('kept', 'value')
      await (stores[1] as SqlStore).migrate()
      expect(await cache.get('kept')).toBe('value')
      expect(await count()).toBe(1)
      expect(await count(`${table}_tags`)).toBe(0)
    })

    it('without autoMigrate, a missing table is a query error (not unavailability) until migrate()', async () => {
      const cache = createCache({ store: open({ autoMigrate: false }) })
      await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_CACHE' })
      await (stores[0] as SqlStore).migrate()
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
    })
  })

  describe('culling (maxEntries)', () => {
    it('keeps the table within maxEntries', async () => {
      const store = open({ maxEntries: 20, cullFrequency: 2 })
      const cache = createCache({ store })
      for (let i = 0; i < 60; i++) {
        await cache.set(`k${i}`, i)
        expect(await count()).toBeLessThanOrEqual(20)
      }
      expect(store.stats().evictions).toBeGreaterThan(0)
      expect(await cache.get('k59')).toBe(59)
    })

    it('deletes expired rows first, and culls the soonest-expiring before never-expiring ones', async () => {
      const store = open({ maxEntries: 10, cullFrequency: 2 })
      const cache = createCache({ store })
      await cache.setMany(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`gone${i}`, i])), {
        ttl: 30,
      })
      await sleep(60)
      await cache.setMany(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`keep${i}`, i])))
      expect(await count()).toBe(5)
      expect(store.stats().evictions).toBe(0)

      await cache.setMany(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`soon${i}`, i])), {
        ttl: '1h',
      })
      await cache.set('keep5', 5)
      const left = (await cache.getMany(Array.from({ length: 6 }, (_, i) => `keep${i}`))).size
      expect(left).toBe(6)
      expect(await count()).toBeLessThanOrEqual(10)
      expect((await cache.getMany(Array.from({ length: 5 }, (_, i) => `soon${i}`))).size).toBe(0)
    })
  })

  describe('prune', () => {
    it('deletes expired rows and stale tag links on demand', async () => {
      const store = open()
      const cache = createCache({ store })
      await cache.setMany({ a: 1, b: 2, c: 3 }, { ttl: 30, tags: ['t'] })
      await cache.set('kept', 1, { tags: ['t'] })
      await cache.set('kept', 2, { tags: ['u'] })
      await sleep(60)
      expect(await count()).toBe(4)
      expect(await store.prune()).toBe(3)
      expect(await count()).toBe(1)
      // Only kept's current link (u) survives.
      expect(await count(`${table}_tags`)).toBe(1)
      expect(store.stats().pruned).toBe(3)
    })

    // Real time passes here: run it on one database only (the timer is the engine's, not the dialect's).
    const onSqlite = target.name === 'sqlite' ? it : () => {}
    onSqlite('runs on its interval, and stops on close', async () => {
      const store = open({ pruneInterval: 1000 })
      const cache = createCache({ store })
      await cache.set('short', 1, { ttl: 20 })
      await sleep(1300)
      expect(await count()).toBe(0)
      await store.close()
      const t = target.quote(table)
      await target.raw(`INSERT INTO ${t} (cache_key, cache_value, expires_at) VALUES ('old', '1', 1)`)
      await sleep(1200)
      expect(await count()).toBe(1)
    })
  })

  describe('concurrency', () => {
    it('incr is exact under 50 concurrent calls from two clients', async () => {
      const one = createCache({ store: open(), prefix: 'p' })
      const two = createCache({ store: open({ separateClient: true }), prefix: 'p' })
      await one.set('warm', 1)
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? one : two).incr('hits', 1, { ttl: '1h' })),
      )
      expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      expect(await one.get('hits')).toBe(50)
      const left = await one.ttl('hits')
      expect(left).toBeGreaterThan(3_500_000)
    })

    it('add has exactly one winner among concurrent callers, also over an expired row', async () => {
      const one = createCache({ store: open(), prefix: 'p' })
      const two = createCache({ store: open({ separateClient: true }), prefix: 'p' })
      const first = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).add('lock', i)),
      )
      expect(first.filter(Boolean)).toHaveLength(1)
      await one.set('lease', 'old', { ttl: 30 })
      await sleep(60)
      const second = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).add('lease', i, { tags: ['lease'] })),
      )
      expect(second.filter(Boolean)).toHaveLength(1)
      expect(await one.deleteByTag('lease')).toBe(1)
    })

    it('incr on a non-integer leaves it unchanged, and on an expired one starts again', async () => {
      const cache = createCache({ store: open() })
      await cache.set('text', 'abc')
      await cache.set('float', 1.5)
      await cache.set('max', Number.MAX_SAFE_INTEGER)
      await expect(cache.incr('text')).rejects.toMatchObject({ code: 'E_NOT_INTEGER' })
      await expect(cache.incr('float')).rejects.toMatchObject({ code: 'E_NOT_INTEGER' })
      await expect(cache.incr('max')).rejects.toMatchObject({ code: 'E_NOT_INTEGER' })
      expect(await cache.get('text')).toBe('abc')
      expect(await cache.get('float')).toBe(1.5)
      expect(await cache.get('max')).toBe(Number.MAX_SAFE_INTEGER)
      expect(await cache.decr('max')).toBe(Number.MAX_SAFE_INTEGER - 1)
      await cache.set('stale', 'not a number', { ttl: 30 })
      await sleep(60)
      expect(await cache.incr('stale', 5)).toBe(5)
    })
  })

  describe('rows cachekit did not write', () => {
    it('reads a foreign value as a miss without crashing, and a raw integer as a number', async () => {
      const store = open()
      const cache = createCache({ store, prefix: 'app' })
      await cache.set('warm', 1)
      const t = target.quote(table)
      await target.raw(`INSERT INTO ${t} (cache_key, cache_value, expires_at) VALUES (?, ?, NULL)`, [
        'app:foreign',
        Buffer.from('hello from another program'),
      ])
      await target.raw(`INSERT INTO ${t} (cache_key, cache_value, expires_at) VALUES (?, ?, NULL)`, [
        'app:junk',
        Buffer.from([0xc1, 0x00, 0xff, 0x13]),
      ])
      await target.raw(
        `INSERT INTO ${t} (cache_key, cache_value, expires_at) VALUES ('app:counter', '41', NULL)`,
      )
      expect(await cache.get('foreign')).toBeUndefined()
      expect(await cache.get('junk')).toBeUndefined()
      expect(cache.stats().errors).toBe(2)
      await expect(cache.incr('foreign')).rejects.toMatchObject({ code: 'E_NOT_INTEGER' })
      expect(await cache.get('counter')).toBe(41)
      expect(await cache.incr('counter')).toBe(42)
      expect((await cache.getMany(['foreign', 'counter', 'warm'])).size).toBe(2)
      expect(await cache.delete('foreign')).toBe(true)
    })
  })

  describe('keys and patterns', () => {
    it('pages through many keys, deleting while iterating, with LIKE metacharacters taken literally', async () => {
      const cache = createCache({ store: open({ batchSize: 7 }), prefix: 'p_%!' })
      const keys = ['a%b', 'a_b', 'a!b', 'axb', 'A%b', 'a%bc', 'a*b', 'a?b', 'a[b']
      await cache.setMany(Object.fromEntries(keys.map((key) => [key, key])))
      await cache.setMany(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`n:${i}`, i])))
      const collect = async (pattern: string) => {
        const out: string[] = []
        for await (const key of cache.keys(pattern)) out.push(key)
        return out.sort()
      }
      expect(await collect('a%b')).toEqual(['a%b'])
      expect(await collect('a_b')).toEqual(['a_b'])
      expect(await collect('a!b')).toEqual(['a!b'])
      expect(await collect('a\\*b')).toEqual(['a*b'])
      expect(await collect('a\\?b')).toEqual(['a?b'])
      expect(await collect('a[[]b')).toEqual(['a[b'])
      expect(await collect('a?b')).toEqual(['a!b', 'a%b', 'a*b', 'a?b', 'a[b', 'a_b', 'axb'])
      expect(await collect('A*')).toEqual(['A%b'])
      let seen = 0
      for await (const key of cache.keys('n:*')) {
        seen++
        await cache.delete(key)
      }
      expect(seen).toBe(40)
      expect(await collect('n:*')).toEqual([])
      expect(await cache.deletePattern('a*')).toBe(8)
      expect(await collect('*')).toEqual(['A%b'])
    })

    it('keeps keys that differ only in case or accents apart', async () => {
      const cache = createCache({ store: open() })
      await cache.setMany({ key: 1, KEY: 2, kéy: 3, ключ: 4, '🔑': 5 })
      expect([...(await cache.getMany(['key', 'KEY', 'kéy', 'ключ', '🔑'])).values()]).toEqual([
        1, 2, 3, 4, 5,
      ])
      expect(await cache.deletePattern('k*')).toBe(2)
      expect(await cache.get('KEY')).toBe(2)
    })
  })

  describe('batches and limits', () => {
    it('setMany and getMany handle more entries than one statement takes', async () => {
      const cache = createCache({ store: open() })
      const entries = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, { i }]))
      await cache.setMany(entries, { tags: ['bulk'] })
      const found = await cache.getMany(Object.keys(entries))
      expect(found.size).toBe(1500)
      expect(found.get('k1499')).toEqual({ i: 1499 })
      expect(await cache.deleteMany(Object.keys(entries).slice(0, 1200))).toBe(1200)
      expect(await cache.deleteByTag('bulk')).toBe(300)
    })

    it('refuses keys over the byte limit, and tags over theirs, writing nothing', async () => {
      const store = open()
      const cache = createCache({ store })
      await expect(cache.set('日'.repeat(600), 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      await expect(cache.set('nul\0key', 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      // Tags carry the cache's prefix: 400 + 1 + 768 bytes is over the tag limit.
      const long = createCache({ store, prefix: 'é'.repeat(200) })
      await expect(long.set('k', 1, { tags: ['t', '日'.repeat(256)] })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      })
      await long.set('k', 1, { tags: ['日'.repeat(200)] })
      expect(await long.deleteByTag('日'.repeat(200))).toBe(1)
      await cache.set('日'.repeat(500), 'fits')
      expect(await cache.get('日'.repeat(500))).toBe('fits')
      expect(await count()).toBe(1)
    })

    it('an entry rewritten with other tags answers only to those', async () => {
      const cache = createCache({ store: open() })
      await cache.set('k', 1, { tags: ['a', 'b'] })
      await cache.set('k', 2, { tags: ['c'] })
      expect(await cache.deleteByTag('a')).toBe(0)
      expect(await cache.get('k')).toBe(2)
      await cache.incr('n', 1, { ttl: '1h' })
      await cache.set('k', 3, { tags: ['c'] })
      expect(await cache.deleteByTag('c')).toBe(1)
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.get('n')).toBe(1)
    })
  })
})
