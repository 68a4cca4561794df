import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, memoryStore } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { sqlStore } from '../../../src/stores/sql/index.js'
import { waitFor } from '../../support/processes.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Redis with a SQL fallback. Redis is paused (SIGSTOP), not killed, so it comes back with its
 * pre-outage data: exactly the data that must not be served once the outage superseded it.
 */
describe.skipIf(!redisAvailable())('fallback to SQL while Redis is out', () => {
  const server = useRedisServer()
  let dir: string
  const caches: Cache[] = []
  const fallbackCache = (tiers = false, prefix = 'app', table = tiers ? 'tiers_fb' : 'fb') => {
    const redis = redisStore({
      url: server.url,
      timeout: 100,
      onLog: () => {},
      breaker: { threshold: 2, coolDownMs: 200 },
    })
    const sql = sqlStore({
      dialect: 'sqlite',
      filename: join(dir, 'fallback.db'),
      table,
    })
    const cache = tiers
      ? createCache({ tiers: [memoryStore(), redis], fallback: sql, prefix })
      : createCache({ store: redis, fallback: sql, prefix })
    caches.push(cache)
    return { cache, sql }
  }
  /** Stays on the fallback until the breaker has opened, then the outage is steady. */
  const outage = async (cache: Cache) => {
    server.pause()
    for (let i = 0; i < 5; i++) await cache.get(`probe${i}`).catch(() => {})
  }
  const recovery = async (cache: Cache) => {
    server.resume()
    await sleep(1100) // the fallback checks the primary again once a second
    await waitFor(async () => {
      await cache.get('probe')
      const stats = cache.store.stats?.() as
        | { onFallback?: boolean; l2?: { onFallback?: boolean } }
        | undefined
      return (stats?.onFallback ?? stats?.l2?.onFallback) === false
    }, 5000)
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ck-fallback-'))
  })
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    server?.resume()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers from SQL during the outage, and serves no superseded value after it', async () => {
    const { cache, sql } = fallbackCache()
    await cache.set('k', 'before')
    await cache.set('gone', 'before')
    await cache.setMany({ 'user:1': 'before', 'user:2': 'before' })
    await cache.set('tagged', 'before', { tags: ['t'] })
    await cache.set('untouched', 'before')
    expect((await sql.stats()).entries ?? 0).toBe(0)

    await outage(cache)
    expect(await cache.get('k')).toBeUndefined() // the fallback starts empty: a miss, not an error
    await cache.set('k', 'during')
    expect(await cache.get('k')).toBe('during')
    await cache.delete('gone')
    await cache.deletePattern('user:*')
    await cache.deleteByTag('t')
    expect(await cache.incr('n')).toBe(1)

    await recovery(cache)
    // Redis still holds the pre-outage values; none of them may come back.
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.get('gone')).toBeUndefined()
    expect(await cache.get('user:1')).toBeUndefined()
    expect(await cache.get('tagged')).toBeUndefined()
    expect(await cache.get('n')).toBeUndefined()
    expect(await cache.get('untouched')).toBe('before')
    // And the fallback was emptied: a later outage does not revive outage-era values.
    await cache.set('k', 'after')
    await outage(cache)
    expect(await cache.get('k')).toBeUndefined()
    await recovery(cache)
    // Nothing touched 'k' during this outage, so Redis's value is still the current one.
    expect(await cache.get('k')).toBe('after')
  })

  it('works under tiers: L2 falls back, and L1 is not trusted while the bus is down', async () => {
    const { cache } = fallbackCache(true)
    await cache.set('k', 'before')
    await waitFor(async () => (await cache.get('k')) === 'before', 3000)
    await outage(cache)
    await cache.set('k', 'during')
    expect(await cache.get('k')).toBe('during')
    await recovery(cache)
    await waitFor(async () => (await cache.get('k')) === undefined, 3000)
  })

  it('writes made while recovery runs reach the primary: none is journaled and then lost', async () => {
    const { cache, sql } = fallbackCache(false, 'rw', 'fb_rw')
    await server.kill()
    for (let i = 0; i < 5; i++) await cache.get(`probe${i}`).catch(() => {})
    // Outage-era writes: they must not be served after the outage (Redis restarts empty anyway).
    for (let i = 0; i < 50; i++) await cache.set(`old:${i}`, 'during')
    await server.restart()
    await sleep(1100) // past the fallback's probe interval: the next call starts recovery
    const writes = Array.from({ length: 200 }, (_, i) => cache.set(`w:${i}`, i))
    await Promise.all(writes)
    const onFallback = (cache.store.stats?.() as { onFallback?: boolean } | undefined)?.onFallback
    expect(onFallback).toBe(false)
    const values = await cache.getMany(Array.from({ length: 200 }, (_, i) => `w:${i}`))
    expect(values.size).toBe(200)
    // They are in Redis itself, not only in the fallback.
    expect(server.cli('EXISTS', 'rw:w:199').trim()).toBe('1')
    // The applied journal and the outage-era values are gone from the fallback.
    const left: string[] = []
    for await (const key of sql.keys('*')) left.push(key)
    expect(left).toEqual([])
  })

  it('a clear() during the outage cannot remove the journal: no pre-outage value comes back', async () => {
    const { cache } = fallbackCache(false, '', 'fb_clear')
    await cache.set('a', 'before')
    await cache.set('b', 'before')
    await outage(cache)
    await cache.set('a', 'during')
    await cache.clear()
    await cache.set('c', 'during')
    await recovery(cache)
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('b')).toBeUndefined()
    expect(await cache.get('c')).toBeUndefined()
  })
})
