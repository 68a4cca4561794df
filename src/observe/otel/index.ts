import { performance } from 'node:perf_hooks'
import {
  type Attributes,
  type BatchObservableResult,
  context,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { Cache } from '../../cache/index.js'
import { InvalidOptionError } from '../../errors.js'
import { type Duration, renamedMs } from '../../internal/index.js'
import { TIMING_SAMPLE_EVERY, type TimingEvent } from '../channels.js'
import { cacheLabel, LabelGuard } from '../labels.js'
import {
  countingSink,
  EVENT_COUNTERS,
  type EventCounterRole,
  METRICS,
  type MetricSpec,
  PULLED,
} from '../metrics.js'
import {
  findRedis,
  type Inspectable,
  inspectWithin,
  type LabelLimits,
  type Labels,
  missTier,
  readCaches,
  readStores,
  subscribeEvents,
} from '../sources.js'

export type { Inspectable, RedisFigures } from '../sources.js'

/** Options of {@link registerOtelMetrics}. */
export interface OtelMetricsOptions extends LabelLimits {
  /** Where the instruments are made. Default: a meter from `meterProvider`, else the global provider. */
  readonly meter?: Meter
  readonly meterProvider?: MeterProvider
  /** Caches whose counters (`stats()`) and store figures are observed at each collection. */
  readonly caches?: readonly Cache[]
  /** Redis stores to read `INFO` from at each collection, besides those found behind `caches`. */
  readonly redis?: Inspectable | readonly Inspectable[]
  /**
   * Spans for cache operations: `true` for the global tracer, or a tracer. They follow the
   * timing sample (see `timingSample`), as children of the active span.
   * Default off.
   */
  readonly spans?: boolean | Tracer
  /**
   * Records one in this many of the timings cachekit samples (one operation in
   * `TIMING_SAMPLE_EVERY`, 32) into the duration histogram and as spans. Default 16, so one
   * operation in 512 (about 200 a second at 100,000 operations a second): the SDK's `record()`
   * costs about 1.7 µs of CPU (it hashes the attributes on each call), which at one in 64 added
   * some 15% to an in-process hit (~0.2 µs). 1 records every sample; counters are exact whatever
   * this is (they come from `stats()` and from counted events).
   */
  readonly timingSample?: number
  /** How long a collection waits for Redis `INFO`. Default `'1s'`. */
  readonly redisTimeout?: Duration
  /** @deprecated The old name of `redisTimeout`, in milliseconds. */
  readonly redisTimeoutMs?: number
}

/** One counted series of an event counter: its attributes (built once) and its running total. */
interface Tally {
  readonly attributes: Attributes
  value: number
}

/** What `otelMetrics` returns: a handle that stops the metrics. */
export interface OtelMetrics {
  /** Stops counting events and observing caches. */
  close(): void
}

/**
 * Attribute names: OpenTelemetry has no cache conventions yet, so cachekit's own live under
 * `cachekit.*`; where a general convention exists it is used (`error.type`, `db.operation.name`).
 */
function attributes(labels: Labels): Attributes {
  const out: Attributes = {}
  for (const [name, value] of Object.entries(labels)) {
    if (name === 'operation') out['db.operation.name'] = value
    else if (name === 'code') out['error.type'] = value
    else out[`cachekit.${name}`] = value
  }
  return out
}

/**
 * Registers cachekit's instruments on an OpenTelemetry meter: the same figures as the Prometheus
 * door (`cachekit/prometheus`), as OTel metrics. Counters of the listed caches are observed from
 * `stats()` at each collection; latency, errors, rate limits, lockouts, one-time codes, HTTP cache
 * and degraded events come from cachekit's diagnostics channels.
 *
 * ```ts
 * const otel = registerOtelMetrics({ meterProvider, caches: [cache] })
 * ```
 */
export function registerOtelMetrics(options: OtelMetricsOptions = {}): OtelMetrics {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('registerOtelMetrics options must be an object')
  }
  const meter = options.meter ?? (options.meterProvider ?? metrics).getMeter('cachekit')
  const caches = [...(options.caches ?? [])]
  const redis = findRedis(caches, options.redis)
  const maxLabelValues = options.maxLabelValues ?? 100
  const redisTimeoutMs = renamedMs(
    options.redisTimeout,
    options.redisTimeoutMs,
    '1s',
    'registerOtelMetrics redisTimeout',
    {
      min: 1,
    },
  )
  const tracer =
    options.spans === true
      ? trace.getTracer('cachekit')
      : options.spans
        ? (options.spans as Tracer)
        : undefined

  const timingSample = options.timingSample ?? 16
  if (!Number.isSafeInteger(timingSample) || timingSample < 1) {
    throw new InvalidOptionError('registerOtelMetrics timingSample must be a whole number >= 1')
  }

  const histogram = (spec: MetricSpec, description = spec.help) =>
    meter.createHistogram(spec.otel, {
      description,
      unit: spec.unit,
      ...(spec.buckets && { advice: { explicitBucketBoundaries: [...spec.buckets] } }),
    })
  const sampled = `(one in ${TIMING_SAMPLE_EVERY * timingSample} timed),`
  const duration = histogram(METRICS.duration, METRICS.duration.help.replace(',', ` ${sampled}`))
  const factoryDuration = histogram(METRICS.factoryDuration)
  // Counted events (HTTP cache requests, rate-limit decisions, errors...) are added up here in
  // plain numbers, one per label set, and reported at each collection by observable counters:
  // no SDK call and no attribute object per event, the same cumulative totals.
  const counters = new Map<EventCounterRole, { instrument: Observable; series: Map<string, Tally> }>()
  for (const role of Object.values(EVENT_COUNTERS)) {
    const spec = METRICS[role]
    const instrument = meter.createObservableCounter(spec.otel, { description: spec.help, unit: spec.unit })
    counters.set(role, { instrument, series: new Map() })
  }
  const count = (role: EventCounterRole, labels: Labels) => {
    const counter = counters.get(role)
    if (!counter) return
    let id = ''
    for (const name in labels) id += `${name}\u0000${labels[name]}\u0000`
    const tally = counter.series.get(id)
    if (tally) tally.value++
    // Label values are bounded (LabelGuard), so the series are too.
    else counter.series.set(id, { attributes: Object.freeze(attributes(labels)), value: 1 })
  }
  const observeCounts = (result: BatchObservableResult) => {
    for (const { instrument, series } of counters.values()) {
      for (const tally of series.values()) result.observe(instrument, tally.value, tally.attributes)
    }
  }
  const countObservables = [...counters.values()].map((counter) => counter.instrument)

  const spanOf = (event: TimingEvent, attrs: Attributes) => {
    if (!tracer) return
    const startTime = performance.timeOrigin + event.start
    const span = tracer.startSpan(
      `cachekit ${event.operation}`,
      { kind: event.tier === 'l2' ? SpanKind.CLIENT : SpanKind.INTERNAL, startTime, attributes: attrs },
      context.active(),
    )
    if (event.result === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: event.errorCode })
    span.end(startTime + event.durationMs)
  }

  // The sources hand the same label object for the same series: its attributes are built once.
  const timingAttributes = new WeakMap<Labels, Attributes>()
  const unsubscribe = subscribeEvents(
    countingSink(count, {
      timing: (labels, seconds, event) => {
        let attrs = timingAttributes.get(labels)
        if (attrs === undefined) timingAttributes.set(labels, (attrs = attributes(labels)))
        duration.record(seconds, attrs)
        spanOf(event, attrs)
      },
      factory: (labels, seconds) => factoryDuration.record(seconds, attributes(labels)),
    }),
    { maxLabelValues },
    timingSample,
  )

  const observable = (spec: MetricSpec): Observable => {
    const options = { description: spec.help, unit: spec.unit }
    return spec.kind === 'gauge'
      ? meter.createObservableGauge(spec.otel, options)
      : meter.createObservableCounter(spec.otel, options)
  }
  const observed = Object.fromEntries(PULLED.map((role) => [role, observable(METRICS[role])])) as Record<
    (typeof PULLED)[number],
    Observable
  >
  const redisObserved = {
    up: observable(METRICS.redisUp),
    memory: observable(METRICS.redisMemory),
    keys: observable(METRICS.redisKeys),
  }
  const namespaces = new LabelGuard(maxLabelValues)
  const observeCaches = (result: BatchObservableResult) => {
    const missTiers = new Map(caches.map((c) => [cacheLabel(c.prefix), missTier(c)] as const))
    for (const row of readCaches(caches, namespaces)) {
      const base = attributes(row.labels)
      const missAt = missTiers.get(row.labels.cache) ?? 'l2'
      const op = (operation: string, outcome: string, tier: string, value: number) =>
        result.observe(observed.operations, value, {
          ...base,
          'cachekit.tier': tier,
          'db.operation.name': operation,
          'cachekit.result': outcome,
        })
      op('get', 'hit', 'l1', row.l1Hits)
      op('get', 'hit', 'l2', row.hits - row.l1Hits)
      op('get', 'miss', missAt, row.misses)
      op('set', 'ok', missAt, row.sets)
      op('delete', 'ok', missAt, row.deletes)
      result.observe(observed.hits, row.hits, base)
      result.observe(observed.misses, row.misses, base)
      result.observe(observed.staleServed, row.staleServed, base)
      result.observe(observed.coalesced, row.coalesced, base)
    }
    for (const row of readStores(caches)) {
      const attrs = { 'cachekit.cache': row.cache, 'cachekit.tier': row.tier }
      if (row.entries !== undefined) result.observe(observed.entries, row.entries, attrs)
      if (row.bytes !== undefined) result.observe(observed.bytes, row.bytes, attrs)
      result.observe(observed.evictions, row.evictions, attrs)
    }
  }
  const observeRedis = async (result: BatchObservableResult) => {
    await Promise.all(
      redis.map(async (store, i) => {
        const attrs = { 'cachekit.redis': String(i) }
        const figures = await inspectWithin(store, redisTimeoutMs)
        result.observe(redisObserved.up, figures ? 1 : 0, attrs)
        if (!figures) return
        result.observe(redisObserved.memory, figures.usedMemory, attrs)
        result.observe(redisObserved.keys, figures.dbSize, attrs)
      }),
    )
  }
  const cacheObservables = Object.values(observed) as Observable[]
  const redisObservables = Object.values(redisObserved) as Observable[]
  meter.addBatchObservableCallback(observeCaches, cacheObservables)
  meter.addBatchObservableCallback(observeCounts, countObservables)
  if (redis.length > 0) meter.addBatchObservableCallback(observeRedis, redisObservables)

  let open = true
  return {
    close() {
      if (!open) return
      open = false
      unsubscribe()
      meter.removeBatchObservableCallback(observeCaches, cacheObservables)
      meter.removeBatchObservableCallback(observeCounts, countObservables)
      if (redis.length > 0) meter.removeBatchObservableCallback(observeRedis, redisObservables)
    },
  }
}
