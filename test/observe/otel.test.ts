import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { responseCache } from '../../src/http/cache/index.js'
import { type Cache, createCache, memoryStore, TIMING_SAMPLE_EVERY } from '../../src/index.js'
import { registerOtelMetrics } from '../../src/observe/otel/index.js'
import { createRateLimiter } from '../../src/ratelimit/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'

interface Point {
  readonly attributes: Record<string, unknown>
  readonly value: unknown
}

/** The data points of one metric in the last export. */
function points(exported: readonly ResourceMetrics[], name: string): Point[] {
  const last = exported.at(-1)
  const out: Point[] = []
  for (const scope of last?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue
      for (const p of metric.dataPoints)
        out.push({ attributes: p.attributes as Record<string, unknown>, value: p.value })
    }
  }
  return out
}

function sum(list: readonly Point[], where: Record<string, string> = {}): number {
  return list
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count), 0)
}

function setup() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  const collect = async () => {
    await reader.forceFlush()
    return exporter.getMetrics()
  }
  return { meterProvider, collect }
}

describe('OpenTelemetry door', () => {
  let cache: Cache
  const spans = new InMemorySpanExporter()
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer(
    'test',
  )
  const sdk = setup()
  let otel: ReturnType<typeof registerOtelMetrics>
  beforeAll(() => {
    cache = createCache({ store: memoryStore({ maxBytes: 1_000_000 }), prefix: 'otel-mem', ttl: '1h' })
    otel = registerOtelMetrics({
      meterProvider: sdk.meterProvider,
      caches: [cache],
      spans: tracer,
      timingSample: 1,
    })
  })
  afterAll(async () => {
    otel?.close()
    await cache?.close()
    await sdk.meterProvider.shutdown()
  })

  it('observes the counters of stats(), and records sampled latency with sub-ms buckets', async () => {
    const users = cache.namespace('users')
    for (let i = 0; i < 20; i++) await cache.set(`k:${i}`, i)
    for (let i = 0; i < TIMING_SAMPLE_EVERY * 10; i++) await cache.get(`k:${i % 25}`)
    for (let i = 0; i < 5; i++) await users.get(`u:${i}`)
    const exported = await sdk.collect()
    const stats = cache.stats()
    const hits = points(exported, 'cachekit.cache.hits')
    expect(sum(hits, { 'cachekit.cache': 'otel-mem' })).toBe(stats.hits)
    expect(sum(points(exported, 'cachekit.cache.misses'))).toBe(stats.misses)
    expect(sum(points(exported, 'cachekit.cache.misses'), { 'cachekit.namespace': 'users' })).toBe(5)
    const ops = points(exported, 'cachekit.cache.operations')
    expect(sum(ops, { 'db.operation.name': 'get', 'cachekit.result': 'hit', 'cachekit.tier': 'l1' })).toBe(
      stats.l1Hits,
    )
    expect(sum(ops, { 'db.operation.name': 'set' })).toBe(stats.sets)
    expect(sum(points(exported, 'cachekit.cache.entries'))).toBe(stats.store.entries)
    expect(sum(points(exported, 'cachekit.cache.size'))).toBe(stats.store.bytes)

    const last = exported.at(-1)
    const duration = last?.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'cachekit.cache.operation.duration')
    expect(duration?.descriptor.unit).toBe('s')
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM)
    const l1 = (duration?.dataPoints ?? []).filter(
      (p) => p.attributes['cachekit.tier'] === 'l1' && p.attributes['db.operation.name'] === 'get',
    )
    // TIMING_SAMPLE_EVERY * 10 gets, one in TIMING_SAMPLE_EVERY timed (the sample counter is shared with the sets before).
    const timed = l1.reduce((n, p) => n + (p.value as { count: number }).count, 0)
    expect(timed).toBeGreaterThanOrEqual(9)
    expect(timed).toBeLessThanOrEqual(11)
    const histogram = l1[0]?.value as { buckets: { boundaries: number[] } }
    expect(histogram.buckets.boundaries[0]).toBe(0.00001)
  })

  it('makes spans for the timed operations, and counts rate-limit decisions', async () => {
    spans.reset()
    for (let i = 0; i < TIMING_SAMPLE_EVERY * 2; i++) await cache.get('k:1')
    const finished = spans.getFinishedSpans()
    expect(finished.length).toBeGreaterThanOrEqual(1)
    expect(finished[0]?.name).toBe('cachekit get')
    expect(finished[0]?.attributes['cachekit.cache']).toBe('otel-mem')

    const limiter = createRateLimiter({ store: memoryStore(), rules: { api: '1/min' } })
    await limiter.consume('api', 'x')
    await limiter.consume('api', 'x')
    const exported = await sdk.collect()
    const decisions = points(exported, 'cachekit.ratelimit.decisions')
    expect(sum(decisions, { 'cachekit.scope': 'api', 'cachekit.result': 'allowed' })).toBe(1)
    expect(sum(decisions, { 'cachekit.scope': 'api', 'cachekit.result': 'refused' })).toBe(1)
    await limiter.close()
  })
})

describe.skipIf(!redisAvailable())('OpenTelemetry door over Redis', () => {
  const server = useRedisServer()
  let cache: Cache
  const sdk = setup()
  beforeAll(async () => {
    cache = createCache({ store: redisStore({ url: server.url }), prefix: 'otel-redis' })
    await cache.ready()
  })
  afterAll(async () => {
    await cache?.close()
    await sdk.meterProvider.shutdown()
  })

  it('observes Redis memory and keys from INFO, and L2 hits', async () => {
    const otel = registerOtelMetrics({ meterProvider: sdk.meterProvider, caches: [cache] })
    for (let i = 0; i < 30; i++) await cache.set(`k:${i}`, i)
    for (let i = 0; i < 40; i++) await cache.get(`k:${i}`)
    const exported = await sdk.collect()
    expect(sum(points(exported, 'cachekit.redis.up'))).toBe(1)
    expect(sum(points(exported, 'cachekit.redis.keys'))).toBeGreaterThanOrEqual(30)
    expect(sum(points(exported, 'cachekit.redis.memory.used'))).toBeGreaterThan(100_000)
    const ops = points(exported, 'cachekit.cache.operations')
    expect(sum(ops, { 'db.operation.name': 'get', 'cachekit.result': 'hit', 'cachekit.tier': 'l2' })).toBe(30)
    expect(sum(ops, { 'db.operation.name': 'get', 'cachekit.result': 'miss', 'cachekit.tier': 'l2' })).toBe(
      10,
    )
    otel.close()
  })
})

describe('OpenTelemetry door sampling', () => {
  it('records one timing sample in timingSample (default 16: one operation in 512)', async () => {
    const sdk = setup()
    const cache = createCache({ store: memoryStore(), prefix: 'otel-sampling' })
    await cache.set('k', 1)
    const otel = registerOtelMetrics({ meterProvider: sdk.meterProvider, caches: [cache] })
    for (let i = 0; i < TIMING_SAMPLE_EVERY * 16 * 10; i++) await cache.get('k')
    const timed = sum(points(await sdk.collect(), 'cachekit.cache.operation.duration'), {
      'cachekit.cache': 'otel-sampling',
    })
    expect(timed).toBeGreaterThanOrEqual(9)
    expect(timed).toBeLessThanOrEqual(11)
    otel.close()
    await cache.close()
    await sdk.meterProvider.shutdown()
  })
})

describe('OpenTelemetry door event counters', () => {
  it('adds up counted events per attribute set and reports exact cumulative totals at each collection', async () => {
    const sdk = setup()
    const otel = registerOtelMetrics({ meterProvider: sdk.meterProvider })
    const cache = createCache({ store: memoryStore(), prefix: 'otel-events' })
    const pages = responseCache({ cache, ttl: '1m', name: 'page' })
    const next = () => new Response('hello', { headers: { 'content-type': 'text/plain' } })
    const serve = (path: string, init?: RequestInit) =>
      pages.handle(new Request(`http://t${path}`, init), next)
    const requests = async () => points(await sdk.collect(), 'cachekit.http_cache.requests')
    await serve('/a') // miss, stored
    for (let i = 0; i < 999; i++) await serve('/a') // hits
    for (let i = 0; i < 7; i++) await serve('/a', { headers: { authorization: 'x' } }) // bypass
    let counted = await requests()
    expect(sum(counted, { 'cachekit.result': 'hit', 'cachekit.route': 'page' })).toBe(999)
    expect(sum(counted, { 'cachekit.result': 'miss' })).toBe(1)
    expect(sum(counted, { 'cachekit.result': 'bypass' })).toBe(7)
    // One series per attribute set, the same attributes object each time.
    expect(counted.filter((p) => p.attributes['cachekit.result'] === 'hit')).toHaveLength(1)
    const refusals = points(await sdk.collect(), 'cachekit.http_cache.refusals')
    expect(sum(refusals, { 'cachekit.reason': 'authorization' })).toBe(7)
    // Cumulative: the next collection reports the totals so far, not what came since.
    for (let i = 0; i < 500; i++) await serve('/a')
    counted = await requests()
    expect(sum(counted, { 'cachekit.result': 'hit' })).toBe(1499)
    expect(sum(points(await sdk.collect(), 'cachekit.http_cache.stores'))).toBe(1)
    otel.close()
    await cache.close()
    await sdk.meterProvider.shutdown()
  })
})
