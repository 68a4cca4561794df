import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheFromEnv, describeAndCreate } from '../../src/config/index.js'
import { InvalidOptionError } from '../../src/index.js'
import { type RedisServer, startRedis } from '../support/redis.js'

// cacheFromEnv against the real thing: a harness Redis, a SQLite file, and bad values of every kind.

let redis: RedisServer
const dir = mkdtempSync(join(tmpdir(), 'cachekit-config-'))
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('cacheFromEnv', () => {
  it('builds a memory cache when nothing is set, with prefix, TTL and version from CACHE_*', async () => {
    const { cache, description } = await describeAndCreate({
      CACHE_PREFIX: 'hlvm',
      CACHE_TTL: '5m',
      CACHE_VERSION: '2',
      CACHE_MAX_ENTRIES: '100',
    })
    expect(description).toEqual({
      store: 'memory',
      l1: false,
      fallback: false,
      prefix: 'hlvm',
      ttlMs: 300_000,
    })
    expect(cache.store.name).toBe('memory')
    expect(cache.makeKey('k')).toBe('hlvm:v2:k')
    await cache.set('k', { a: 1 })
    const left = await cache.ttl('k')
    expect(left).toBeGreaterThan(290_000)
    await cache.close()
    const plain = await cacheFromEnv({})
    expect(plain.store.name).toBe('memory')
    await plain.close()
  })

  it('builds a Redis cache from REDIS_URL, with an L1 tier and compression when asked', async () => {
    const cache = await cacheFromEnv({
      REDIS_URL: redis.url,
      CACHE_PREFIX: `cfg-${process.pid}`,
      CACHE_L1: 'true',
      CACHE_L1_TTL: '1m',
      CACHE_COMPRESSION: 'gzip',
      CACHE_TIMEOUT: '2s',
      CACHE_ON_ERROR: 'ignore',
    })
    await cache.ready()
    expect(cache.store.name).toMatch(/^tiered\(memory, redis\)/)
    const big = 'x'.repeat(10_000)
    await cache.set('doc', { big, at: new Date(0) })
    expect(await cache.get('doc')).toEqual({ big, at: new Date(0) })
    await cache.close()
    const again = await cacheFromEnv({ CACHE_URL: redis.url, CACHE_PREFIX: `cfg-${process.pid}` })
    await again.ready()
    expect(again.store.name).toBe('redis')
    expect(await again.get('doc')).toEqual({ big, at: new Date(0) })
    await again.clear()
    await again.close()
  })

  it('takes a SQL store from CACHE_URL and a SQL fallback from CACHE_FALLBACK_URL or DATABASE_URL', async () => {
    const sql = await cacheFromEnv({ CACHE_URL: `sqlite:${join(dir, 'cache.db')}`, CACHE_TTL: 'none' })
    expect(sql.store.name).toMatch(/sqlite/)
    await sql.set('k', 1)
    expect(await sql.ttl('k')).toBeNull()
    await sql.close()
    const { cache, description } = await describeAndCreate({
      REDIS_URL: redis.url,
      CACHE_FALLBACK_URL: 'database',
      DATABASE_URL: `sqlite:${join(dir, 'fallback.db')}`,
    })
    expect(description.fallback).toBe(true)
    expect(cache.store.name).toMatch(/with fallback/)
    await cache.close()
  })

  it('names the variable in a typed error, and never shows a password', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ CACHE_TTL: '5 minutes and a bit' }, /CACHE_TTL/],
      [{ CACHE_TTL: '1000000000000000000' }, /CACHE_TTL/],
      [{ CACHE_VERSION: '-1' }, /CACHE_VERSION/],
      [{ CACHE_L1: 'maybe' }, /CACHE_L1/],
      [{ CACHE_L1: 'true' }, /CACHE_L1=true needs a Redis store/],
      [{ CACHE_COMPRESSION: 'lz4' }, /CACHE_COMPRESSION/],
      [{ CACHE_ON_ERROR: 'explode' }, /CACHE_ON_ERROR/],
      [{ CACHE_TIMEOUT: '30d' }, /CACHE_TIMEOUT/],
      [{ CACHE_URL: 'ftp://user:hunter22@host' }, /CACHE_URL/],
      [{ CACHE_URL: 'redis://user:hunter22@host:99999999' }, /CACHE_URL/],
      [{ REDIS_URL: 'redis:/default:hunter22@host:6379' }, /REDIS_URL/],
      [{ REDIS_URL: redis.url, CACHE_FALLBACK_URL: 'mongodb://u:hunter22@h' }, /CACHE_FALLBACK_URL/],
      [{ CACHE_FALLBACK_URL: 'database', REDIS_URL: redis.url }, /DATABASE_URL is not set/],
    ]
    for (const [env, message] of cases) {
      const error = await cacheFromEnv(env).then(
        async (cache) => {
          await cache.close()
          return undefined
        },
        (e: unknown) => e,
      )
      expect(error, JSON.stringify(env)).toBeInstanceOf(InvalidOptionError)
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).not.toContain('hunter22')
    }
  })
})
