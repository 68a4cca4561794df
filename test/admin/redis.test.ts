import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminHandler } from '../../src/admin/index.js'
import { createCache, memoryStore } from '../../src/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { Client } from '../support/admin-client.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'

describe.skipIf(!redisAvailable())('admin page over a private Redis', () => {
  const server = useRedisServer({ args: ['--maxmemory', '32mb', '--maxmemory-policy', 'noeviction'] })
  let store: RedisStore
  const closers: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    store = redisStore({ url: server.url })
    await store.ready()
  })
  afterAll(async () => {
    for (const c of closers.reverse()) await c.close()
    await store?.close()
  })

  it('shows INFO figures, warns about noeviction, and samples keys per prefix on a big keyspace', async () => {
    const cache = createCache({ store, prefix: 'big' })
    const other = createCache({ store, prefix: 'small' })
    closers.push(cache, other)
    await cache.setMany(Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`item:${i}`, i])))
    await other.setMany(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`row:${i}`, i])))
    const sampled = adminHandler({
      caches: { big: cache, small: other },
      authorize: () => true,
      prefixScanLimit: 100,
    })
    const exact = adminHandler({ caches: { big: cache }, authorize: () => true })
    closers.push(sampled, exact)
    const page = (await new Client(sampled).get('/admin')).html
    expect(page).toContain('maxmemory-policy is noeviction')
    expect(page).toContain('used by big, small')
    expect(page).toContain('data-figure="redis.keys">660<')
    expect(page).toMatch(/data-sampled="true">\(sampled: 100 of 660 keys scanned, counts scaled\)/)
    expect(page).toMatch(/big:item<\/td><td>≈ [\d,]+/)
    const full = (await new Client(exact).get('/admin')).html
    expect(full).toContain('(all 660 keys counted)')
    expect(full).toContain('<td class="key">big:item</td><td>600</td>')
    expect(full).toContain('<td class="key">small:row</td><td>60</td>')
  })

  it('shows the Redis type, MEMORY USAGE, tags and TTL of a key; pages a SCAN', async () => {
    const cache = createCache({ store, prefix: 'detail' })
    closers.push(cache)
    await cache.getOrSet('report', () => ({ total: 3 }), { ttl: '1h', grace: '10m', tags: ['reports'] })
    await cache.incr('visits', 5)
    const admin = adminHandler({ caches: { main: cache }, authorize: () => true, pageSize: 1 })
    closers.push(admin)
    const client = new Client(admin)
    const report = (await client.get('/admin/key?cache=main&key=report')).html
    expect(report).toContain('<td>string (object)</td>')
    expect(report).toMatch(/<td>\d+ B <span class="muted">MEMORY USAGE<\/span>/)
    expect(report).toContain('<code>detail:reports</code>') // tags as stored, under the prefix
    expect(report).toContain('&quot;total&quot;: 3')
    const visits = (await client.get('/admin/key?cache=main&key=visits')).html
    expect(visits).toContain('<td>string (number)</td>')
    expect(visits).toContain('<pre id="value">5</pre>')
    const first = (await client.get('/admin/keys?cache=main&pattern=*')).html
    expect(first).toContain('rel="next"')
    const next = /href="([^"]+)" rel="next"/.exec(first)?.[1]?.replaceAll('&amp;', '&') as string
    const second = (await client.get(next)).html
    const keys = [first, second].flatMap((h) =>
      [...h.matchAll(/<a href="[^"]*\/key\?[^"]*">([^<]+)<\/a>/g)].map((m) => m[1]),
    )
    expect(keys.sort()).toEqual(['report', 'visits'])
    // The list shows each key's Redis type and MEMORY USAGE beside its TTL.
    expect(first + second).toMatch(/<td class="opt">string<\/td><td class="opt">\d+ B<\/td>/)
  })

  it('shows L1 entries and bytes of a tiered cache, and Redis under it', async () => {
    const l2 = redisStore({ url: server.url })
    const cache = createCache({ tiers: [memoryStore({ maxBytes: 1_000_000 }), l2], prefix: 'tiered' })
    closers.push(cache)
    await cache.ready()
    // L1 is trusted (and filled) once the invalidation bus is subscribed.
    await expect
      .poll(
        async () => {
          await cache.set('a', 'x'.repeat(100))
          await cache.get('a')
          return cache.stats().store.entries
        },
        { timeout: 15_000 },
      )
      .toBe(1)
    const admin = adminHandler({ caches: { tiered: cache }, authorize: () => true })
    closers.push(admin)
    const html = (await new Client(admin).get('/admin')).html
    expect(html).toMatch(/Entries in L1<\/dt><dd>1</)
    expect(html).toMatch(/Bytes in L1<\/dt><dd>\d+/)
    expect(html).toContain('used by tiered')
  })
})
