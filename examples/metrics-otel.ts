/**
 * OpenTelemetry metrics and spans for a cache: the same figures as the Prometheus door, as OTel
 * instruments, read here with the SDK's in-memory exporter (an app would export over OTLP). On
 * Redis with REDIS_URL, else in memory. Run: npx tsx examples/metrics-otel.ts
 */
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createCache, memoryStore, TIMING_SAMPLE_EVERY } from 'cachekit'
import { registerOtelMetrics } from 'cachekit/otel'
import { redisOptionsFromEnv, redisStore } from 'cachekit/redis'

const options = redisOptionsFromEnv(process.env)
const cache = createCache({
  store: options ? redisStore({ ...options, timeout: 500 }) : memoryStore(),
  prefix: `otel-example-${process.pid}`,
  ttl: '1m',
})
await cache.ready()

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
const meterProvider = new MeterProvider({ readers: [reader] })
const spans = new InMemorySpanExporter()
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('app')

const otel = registerOtelMetrics({ meterProvider, caches: [cache], spans: tracer })

for (let i = 0; i < 10; i++) await cache.set(`user:${i}`, { id: i })
for (let i = 0; i < TIMING_SAMPLE_EVERY * 4; i++) await cache.get(`user:${i % 12}`)

await reader.forceFlush()
for (const scope of exporter.getMetrics().at(-1)?.scopeMetrics ?? []) {
  for (const metric of scope.metrics) {
    const { name, unit } = metric.descriptor
    const total = metric.dataPoints.reduce(
      (n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
      0,
    )
    console.log(`${name}${unit ? ` (${unit})` : ''}: ${total} over ${metric.dataPoints.length} series`)
  }
}
const finished = spans.getFinishedSpans()
console.log(
  `${finished.length} spans, e.g. "${finished[0]?.name}" ${JSON.stringify(finished[0]?.attributes)}`,
)

otel.close()
await meterProvider.shutdown()
await cache.close()
