/**
 * Prometheus metrics and per-request cache accounting, as the course platform and the staff bot
 * use them: an Express app whose `/report` route answers with `X-Cache-Hits`, `X-Cache-Misses` and
 * `X-Response-Time`, and a `/metrics` route scraped by Prometheus. On Redis with REDIS_URL (Redis
 * memory and keys from INFO appear too), else in memory. Run: npx tsx examples/metrics-prometheus.ts
 */
import type { AddressInfo } from 'node:net'
import { createCache, memoryStore } from 'cachekit'
import { cacheAccounting } from 'cachekit/express'
import { metricsHandler, registerMetrics } from 'cachekit/prometheus'
import { createRateLimiter } from 'cachekit/ratelimit'
import { redisOptionsFromEnv, redisStore } from 'cachekit/redis'
import express from 'express'
import { collectDefaultMetrics, Registry } from 'prom-client'

const options = redisOptionsFromEnv(process.env)
const cache = createCache({
  store: options ? redisStore({ ...options, timeout: 500 }) : memoryStore({ maxEntries: 10_000 }),
  prefix: `courses-${process.pid}`,
  ttl: '5m',
})
await cache.ready()
const limiter = createRateLimiter({ store: memoryStore(), rules: { reports: ['100/min', '2000/day'] } })

// The app's own registry; calling registerMetrics again (a hot reload) reuses what is there.
const registry = new Registry()
collectDefaultMetrics({ register: registry })
const metrics = registerMetrics({ registry, caches: [cache] })

const app = express()
app.get('/metrics', metricsHandler(registry))
// Accounting is off by default: mounted on this route only.
app.get('/report/:course', cacheAccounting(), async (req, res) => {
  const decision = await limiter.consume('reports', req.socket.remoteAddress ?? 'unknown')
  if (!decision.allowed) return void res.status(429).end()
  const course = req.params['course'] ?? ''
  const lessons = await cache.getOrSet(`lessons:${course}`, async () => ['intro', 'basics', 'advanced'])
  const progress = await cache.get(`progress:${course}`)
  res.json({ course, lessons, progress: progress ?? 0 })
})

const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

for (const attempt of [1, 2]) {
  const res = await fetch(`${base}/report/ts-101`)
  await res.json()
  console.log(
    `request ${attempt}: X-Cache-Hits ${res.headers.get('x-cache-hits')}, X-Cache-Misses ${res.headers.get('x-cache-misses')}, X-Response-Time ${res.headers.get('x-response-time')}`,
  )
}

const text = await (await fetch(`${base}/metrics`)).text()
const shown = text
  .split('\n')
  .filter((line) =>
    /^cachekit_(cache_(hits|misses)_total|cache_operations_total|ratelimit_decisions_total|redis_memory_used_bytes|redis_keys)/.test(
      line,
    ),
  )
console.log(`GET /metrics (${text.length} bytes), cachekit lines:\n${shown.join('\n')}`)
console.log('stats():', JSON.stringify({ hits: cache.stats().hits, misses: cache.stats().misses }))

metrics.close()
await new Promise((resolve) => server.close(resolve))
await limiter.close()
await cache.close()
