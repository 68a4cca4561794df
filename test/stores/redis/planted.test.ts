import fc from 'fast-check'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, CacheError, createCache, memoryStore } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

/** What anyone who can write to Redis can plant under a cache's key. */
const planted = fc.oneof(
  fc.uint8Array({ maxLength: 700 }),
  // Entries with cachekit's header (msgpack or JSON, with or without an envelope) and junk after it.
  fc
    .tuple(fc.constantFrom(1, 2, 3, 200), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 700 }))
    .map(([serializer, flags, body]) => Buffer.concat([Buffer.from([0xc1, serializer, flags]), body])),
  // Well-formed MessagePack of things that are not cache values, as msgpackr writes them.
  fc
    .constantFrom<unknown>(/a+/g, new Error('x'), new ArrayBuffer(4), { a: /b/ })
    .map((v) => Buffer.concat([Buffer.from([0xc1, 1, 0]), new Packr({ moreTypes: true }).pack(v)])),
)

function bomb(): Buffer {
  let node: unknown = { leaf: 1 }
  for (let i = 0; i < 40; i++) node = [node, node]
  const packr = new Packr({ structuredClone: true, useRecords: true, mapsAsObjects: false, moreTypes: true })
  return Buffer.concat([Buffer.from([0xc1, 1, 0]), packr.pack(node)])
}

describe.skipIf(!redisAvailable())('bytes planted in Redis', () => {
  const server = useRedisServer()
  let raw: Redis
  const caches: Cache[] = []

  beforeAll(async () => {
    raw = new Redis(server.url, { lazyConnect: false })
    caches.push(
      createCache({ store: redisStore({ url: server.url, timeout: 5000 }), prefix: 'plain' }),
      createCache({
        tiers: [memoryStore(), redisStore({ url: server.url, timeout: 5000 })],
        prefix: 'tiered',
      }),
    )
  })
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    raw?.disconnect()
  })

  /** Plants the bytes and reads them: a value or a miss, never an untyped error; returns the ms the read took. */
  async function plantAndRead(cache: Cache, bytes: Uint8Array): Promise<number> {
    const key = 'victim'
    await cache.delete(key) // so the tiered cache's L1 holds nothing from the last round
    await raw.set(cache.makeKey(key), Buffer.from(bytes))
    const start = performance.now()
    try {
      await cache.get(key)
    } catch (error) {
      expect(error).toBeInstanceOf(CacheError)
    }
    return performance.now() - start
  }

  /**
   * Within 100 ms. A read over it is tried once more: on a busy machine a round trip can stall,
   * but an entry that is slow to decode is slow every time.
   */
  async function readPlanted(cache: Cache, bytes: Uint8Array): Promise<void> {
    let ms = await plantAndRead(cache, bytes)
    if (ms >= 100) ms = Math.min(ms, await plantAndRead(cache, bytes))
    expect(ms).toBeLessThan(100)
  }

  it('the 526-byte reference bomb reads as a miss on a Redis and a tiered cache, and counts an error', async () => {
    for (const cache of caches) {
      await readPlanted(cache, bomb())
      const errors = cache.stats().errors
      await raw.set(cache.makeKey('bomb'), bomb())
      expect(await cache.get('bomb')).toBeUndefined()
      expect(cache.stats().errors).toBe(errors + 1)
      // The next read is a miss too, and a write replaces the entry.
      expect(await cache.get('bomb')).toBeUndefined()
      await cache.set('bomb', { fine: true })
      expect(await cache.get('bomb')).toStrictEqual({ fine: true })
      // getMany and getOrSet read a planted entry as a miss too.
      await raw.set(cache.makeKey('bomb2'), bomb())
      expect(await cache.getMany(['bomb2'])).toStrictEqual(new Map())
      expect(await cache.getOrSet('bomb2', () => 'rebuilt')).toBe('rebuilt')
      expect(await cache.get('bomb2')).toBe('rebuilt')
    }
  })

  it('random bytes read as a value or a miss within 100 ms, never an untyped error (property)', async () => {
    for (const cache of caches) {
      await fc.assert(
        fc.asyncProperty(planted, (bytes) => readPlanted(cache, bytes)),
        { numRuns: 300 },
      )
    }
  })
})
