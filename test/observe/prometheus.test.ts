import diagnostics from 'node:diagnostics_channel'
import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  type Cache,
  createCache,
  HTTP_CACHE_CHANNEL,
  memoryStore,
  TIMING_SAMPLE_EVERY,
} from '../../src/index.js'
import { registerMetrics } from '../../src/observe/prometheus/index.js'
import { createLoginGuard, createOneTimeCodes, createRateLimiter } from '../../src/ratelimit/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { scrape, series, serveMetrics, total } from '../support/prometheus.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'

/** Reads and writes whose counts the scrape must match. */
async function workload(cache: Cache): Promise<void> {
  const users = cache.namespace('users')
  for (let i = 0; i < 40; i++) await cache.set(`k:${i}`, { i })
  for (let i = 0; i < 60; i++) await cache.get(`k:${i}`) // 40 hits, 20 misses
  for (let i = 0; i < 10; i++) await users.set(`u:${i}`, i)
  for (let i = 0; i < 25; i++) await users.get(`u:${i % 12}`) // 21 hits (u:10, u:11 miss twice each)
  for (let i = 0; i < 5; i++) await cache.getOrSet(`g:${i % 2}`, () => i) // 2 misses, 3 hits
  await cache.getMany(['k:1', 'k:2', 'nope'])
  await cache.delete('k:0')
}

function expectMatchesStats(samples: Parameters<typeof total>[0], cache: Cache, name: string): void {
  const stats = cache.stats()
  expect(total(samples, 'cachekit_cache_hits_total', { cache: name })).toBe(stats.hits)
  expect(total(samples, 'cachekit_cache_misses_total', { cache: name })).toBe(stats.misses)
  const users = stats.namespaces['users']
  expect(total(samples, 'cachekit_cache_hits_total', { cache: name, namespace: 'users' })).toBe(users?.hits)
  expect(total(samples, 'cachekit_cache_misses_total', { cache: name, namespace: 'users' })).toBe(
    users?.misses,
  )
  const ops = (where: Record<string, string>) =>
    total(samples, 'cachekit_cache_operations_total', { cache: name, ...where })
  expect(ops({ operation: 'get', result: 'hit' })).toBe(stats.hits)
  expect(ops({ operation: 'get', result: 'miss' })).toBe(stats.misses)
  expect(ops({ operation: 'set', result: 'ok' })).toBe(stats.sets)
  expect(ops({ operation: 'delete', result: 'ok' })).toBe(stats.deletes)
  expect(ops({ operation: 'get', result: 'hit', tier: 'l1' })).toBe(stats.l1Hits)
  expect(total(samples, 'cachekit_cache_coalesced_total', { cache: name })).toBe(stats.coalesced)
}

describe('Prometheus door over a memory cache', () => {
  const registry = new Registry()
  let cache: Cache
  let served: Awaited<ReturnType<typeof serveMetrics>>
  beforeAll(async () => {
    cache = createCache({
      store: memoryStore({ maxEntries: 10_000, maxBytes: 10_000_000 }),
      prefix: 'prom-mem',
      ttl: '1h',
    })
    registerMetrics({ registry, caches: [cache] })
    served = await serveMetrics(registry)
  })
  afterAll(async () => {
    await served?.close()
    await cache?.close()
  })

  it('serves /metrics whose figures are those of cache.stats()', async () => {
    await workload(cache)
    const { samples, text } = await scrape(served.url)
    expectMatchesStats(samples, cache, 'prom-mem')
    const stats = cache.stats()
    expect(stats.hits).toBeGreaterThan(0)
    expect(stats.l1Hits).toBe(stats.hits)
    expect(total(samples, 'cachekit_cache_entries', { cache: 'prom-mem', tier: 'l1' })).toBe(
      stats.store.entries,
    )
    expect(total(samples, 'cachekit_cache_bytes', { cache: 'prom-mem', tier: 'l1' })).toBe(stats.store.bytes)
    // Conventions: counters end in _total, units are base units.
    expect(text).toContain('# TYPE cachekit_cache_hits_total counter')
    expect(text).toContain('# TYPE cachekit_cache_operation_duration_seconds histogram')
    expect(text).toMatch(/cachekit_cache_operation_duration_seconds_bucket\{[^}]*le="0\.00001"/)
  })

  it('times one operation in TIMING_SAMPLE_EVERY, with sub-millisecond L1 buckets', async () => {
    const l1 = { cache: 'prom-mem', tier: 'l1', operation: 'get', result: 'hit' }
    const counted = (samples: Parameters<typeof total>[0]) =>
      total(samples, 'cachekit_cache_operation_duration_seconds_count', l1)
    const before = counted((await scrape(served.url)).samples)
    for (let i = 0; i < TIMING_SAMPLE_EVERY * 20; i++) await cache.get(`k:${1 + (i % 30)}`)
    const { samples } = await scrape(served.url)
    const count = counted(samples)
    expect(count - before).toBeGreaterThanOrEqual(19)
    expect(count - before).toBeLessThanOrEqual(21)
    // An in-process hit is well under a millisecond.
    expect(
      total(samples, 'cachekit_cache_operation_duration_seconds_bucket', { ...l1, le: '0.001' }),
    ).toBeGreaterThan(0)
  })

  it('counts rate-limit decisions by policy, lockouts, one-time codes, HTTP cache and degraded events', async () => {
    const store = memoryStore()
    const limiter = createRateLimiter({ store, rules: { api: ['2/min', '100/day'] }, prefix: 'prom-rl' })
    for (let i = 0; i < 3; i++) await limiter.consume('api', 'client-1')
    const guard = createLoginGuard({
      store,
      failureLimit: 2,
      prefix: 'prom-guard',
      lockBy: [['username', 'ip']],
    })
    const attempt = { username: 'ann', ip: '203.0.113.9' }
    for (let i = 0; i < 2; i++) {
      await guard.check(attempt)
      await guard.fail(attempt)
    }
    expect((await guard.check(attempt)).locked).toBe(true)
    const codes = createOneTimeCodes({ store, secret: 'x'.repeat(32), prefix: 'prom-otp', purpose: 'login' })
    const code = await codes.issue('ann@example.com')
    expect(await codes.verify('ann@example.com', code === '000000' ? '111111' : '000000')).toBe(false)
    expect(await codes.verify('ann@example.com', code)).toBe(true)
    expect(await codes.verify('ann@example.com', code)).toBe(false)
    const http = diagnostics.channel(HTTP_CACHE_CHANNEL)
    http.publish({ type: 'hit', route: '/articles/:id', method: 'GET' })
    http.publish({ type: 'bypass', reason: 'set-cookie', route: '/articles/:id', method: 'GET' })
    http.publish({ type: 'stale', route: '/articles/:id', method: 'GET' })
    http.publish({ type: 'miss', route: '/articles/:id', method: 'GET' })
    http.publish({ type: 'store', route: '/articles/:id', method: 'GET' })
    diagnostics
      .channel('cachekit:degraded')
      .publish({ type: 'degraded', source: 'redis', kind: 'ignored-error' })

    const { samples } = await scrape(served.url)
    const decision = (policy: string, result: string) =>
      total(samples, 'cachekit_ratelimit_decisions_total', { scope: 'api', policy, result })
    expect([decision('api', 'allowed'), decision('api', 'refused')]).toEqual([2, 1])
    expect([decision('api-2', 'allowed'), decision('api-2', 'refused')]).toEqual([3, 0])
    expect(
      total(samples, 'cachekit_login_guard_lockouts_total', { lock: 'username+ip', kind: 'permanent' }),
    ).toBe(1)
    expect(total(samples, 'cachekit_login_guard_refused_total', { reason: 'locked' })).toBe(1)
    const otp = (result: string, reason = '') =>
      total(samples, 'cachekit_one_time_codes_total', { purpose: 'login', result, reason })
    expect([otp('sent'), otp('verified'), otp('refused', 'wrong'), otp('refused', 'missing')]).toEqual([
      1, 1, 1, 1,
    ])
    const route = { route: '/articles/:id', method: 'GET' }
    expect(total(samples, 'cachekit_http_cache_requests_total', { ...route, result: 'hit' })).toBe(1)
    expect(total(samples, 'cachekit_http_cache_requests_total', { ...route, result: 'stale' })).toBe(1)
    expect(total(samples, 'cachekit_http_cache_refusals_total', { ...route, reason: 'set-cookie' })).toBe(1)
    expect(total(samples, 'cachekit_http_cache_requests_total', route)).toBe(4)
    expect(total(samples, 'cachekit_http_cache_stores_total', route)).toBe(1)
    expect(total(samples, 'cachekit_degraded_total', { source: 'redis', kind: 'ignored-error' })).toBe(1)
    // Nothing about who: no user, no IP, no subject, no client key.
    const { text } = await scrape(served.url)
    for (const secret of ['ann', '203.0.113.9', 'client-1', 'example.com']) expect(text).not.toContain(secret)
    await limiter.close()
    await guard.close()
    await codes.close()
  })
})

describe('registration is idempotent', () => {
  it('a second call, and a call from a freshly loaded module (hot reload), reuse the metrics and count once', async () => {
    const registry = new Registry()
    const cache = createCache({ store: memoryStore(), prefix: 'prom-idem' })
    registerMetrics({ registry, caches: [cache] })
    expect(() => registerMetrics({ registry, caches: [cache] })).not.toThrow()
    vi.resetModules()
    const reloaded = await import('../../src/observe/prometheus/index.js')
    const last = reloaded.registerMetrics({ registry, caches: [cache] })
    const limiter = createRateLimiter({ store: memoryStore(), rules: { once: '10/min' } })
    await limiter.consume('once', 'k')
    await cache.set('a', 1)
    await cache.get('a')
    const served = await serveMetrics(registry)
    const { samples } = await scrape(served.url)
    expect(total(samples, 'cachekit_ratelimit_decisions_total', { scope: 'once' })).toBe(1)
    expect(total(samples, 'cachekit_cache_hits_total', { cache: 'prom-idem' })).toBe(1)
    expect(series(samples, 'cachekit_cache_hits_total')).toHaveLength(1)
    last.close()
    await served.close()
    await limiter.close()
    await cache.close()
  })

  it('refuses, with a typed error, a metric of the same name registered by someone else with other labels', () => {
    const registry = new Registry()
    registry.registerMetric(
      new Counter({
        name: 'clash_cache_hits_total',
        help: 'x',
        labelNames: ['a'],
        registers: [],
      }),
    )
    expect(() => registerMetrics({ registry, prefix: 'clash_' })).toThrow(/another type or labels/)
  })
})

describe('label cardinality stays bounded', () => {
  it('thousands of keys and per-user namespaces make a bounded number of series', async () => {
    const registry = new Registry()
    const cache = createCache({ store: memoryStore({ maxEntries: 100_000 }), prefix: 'prom-card' })
    const metrics = registerMetrics({ registry, caches: [cache], maxLabelValues: 50 })
    for (let i = 0; i < 5000; i++) await cache.set(`item:${i}`, i)
    for (let i = 0; i < 5000; i++) await cache.get(`item:${(i * 7919) % 6000}`)
    for (let i = 0; i < 2000; i++) {
      const ns = cache.namespace(`user:${i}`)
      await ns.set('profile', i)
      await ns.get('profile')
      await ns.get('missing')
    }
    const served = await serveMetrics(registry)
    const { samples, text } = await scrape(served.url)
    const hits = series(samples, 'cachekit_cache_hits_total')
    expect(hits.length).toBeLessThanOrEqual(51)
    expect(hits.some((s) => s.labels['namespace'] === '_other')).toBe(true)
    // Bounded, yet nothing lost: the overflow row carries the rest.
    expect(total(samples, 'cachekit_cache_hits_total')).toBe(cache.stats().hits)
    const durations = series(samples, 'cachekit_cache_operation_duration_seconds_count')
    expect(durations.length).toBeLessThanOrEqual(60)
    expect(samples.length).toBeLessThan(2000)
    expect(text).not.toMatch(/item:\d/)
    metrics.close()
    await served.close()
    await cache.close()
  })
})

describe.skipIf(!redisAvailable())('Prometheus door over Redis', () => {
  const server = useRedisServer()
  const registry = new Registry()
  let cache: Cache
  let tiered: Cache
  beforeAll(async () => {
    cache = createCache({ store: redisStore({ url: server.url }), prefix: 'prom-redis', ttl: '1h' })
    tiered = createCache({
      tiers: [memoryStore(), redisStore({ url: server.url })],
      prefix: 'prom-tiers',
      ttl: '1h',
    })
    await cache.ready()
    await tiered.ready()
    registerMetrics({ registry, caches: [cache, tiered] })
  })
  afterAll(async () => {
    await cache?.close()
    await tiered?.close()
  })

  it('matches stats(), reports Redis memory and keys from INFO, and L2 latency', async () => {
    await workload(cache)
    for (let i = 0; i < TIMING_SAMPLE_EVERY * 4; i++) await cache.get(`k:${i % 40}`)
    await workload(tiered)
    const served = await serveMetrics(registry)
    const { samples } = await scrape(served.url)
    expectMatchesStats(samples, cache, 'prom-redis')
    expectMatchesStats(samples, tiered, 'prom-tiers')
    expect(cache.stats().l1Hits).toBe(0)
    expect(tiered.stats().l1Hits).toBeGreaterThan(0)
    // Two Redis stores (the cache's, and the tiered cache's L2), both answering INFO.
    expect(series(samples, 'cachekit_redis_up').map((s) => s.value)).toEqual([1, 1])
    expect(total(samples, 'cachekit_redis_memory_used_bytes')).toBeGreaterThan(100_000)
    const keys = total(samples, 'cachekit_redis_keys')
    expect(keys).toBeGreaterThanOrEqual(2 * (39 + 10 + 2))
    const l2 = { cache: 'prom-redis', tier: 'l2', operation: 'get' }
    expect(total(samples, 'cachekit_cache_operation_duration_seconds_count', l2)).toBeGreaterThanOrEqual(4)
    expect(total(samples, 'cachekit_cache_entries', { cache: 'prom-tiers', tier: 'l1' })).toBe(
      tiered.stats().store.entries,
    )
    await served.close()
  })
})
