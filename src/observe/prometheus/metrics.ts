import promClient, { type Counter, type Gauge, type Histogram, type Registry } from 'prom-client'
import { InvalidOptionError } from '../../errors.js'
import { TIMING_SAMPLE_EVERY } from '../channels.js'
import {
  DURATION_BUCKETS,
  METRICS,
  type MetricRole,
  type MetricSpec,
  PULLED,
  REDIS_GAUGES,
} from '../metrics.js'
import { SampledHistogram } from './sampled-histogram.js'

export { DURATION_BUCKETS }

interface ByKind {
  counter: Counter
  gauge: Gauge
  histogram: Histogram
}

/** Every metric cachekit registers, by role (see `METRICS`). */
export type PromMetrics = {
  readonly [R in Exclude<MetricRole, 'duration'>]: ByKind[(typeof METRICS)[R]['kind']]
} & {
  readonly duration: SampledHistogram
  /** Metrics filled from `stats()` at each scrape. */
  readonly pulled: readonly (Counter | Gauge)[]
  /** Metrics filled from Redis `INFO` at each scrape. */
  readonly redisGauges: readonly Gauge[]
}

/**
 * The metric of that name already in the registry (registered by an earlier call, or before a hot
 * reload), or a new one. A metric of that name but another type or other labels is a conflict.
 */
function ensure(registry: Registry, name: string, spec: MetricSpec): Counter | Gauge | Histogram {
  const existing = registry.getSingleMetric(name) as
    | ((Counter | Gauge | Histogram) & { type?: string; labelNames?: string[] })
    | undefined
  if (existing) {
    const same =
      existing.type === spec.kind &&
      JSON.stringify([...(existing.labelNames ?? [])].sort()) === JSON.stringify([...spec.labels].sort())
    if (!same) {
      throw new InvalidOptionError(
        `registerMetrics: the registry already has a metric "${name}" of another type or labels; pass another prefix`,
      )
    }
    return existing
  }
  const base = { name, help: spec.help, labelNames: [...spec.labels], registers: [registry] }
  if (spec.kind === 'counter') return new promClient.Counter(base)
  if (spec.kind === 'gauge') return new promClient.Gauge(base)
  return new promClient.Histogram({ ...base, buckets: [...(spec.buckets ?? DURATION_BUCKETS)] })
}

/** Registers (or finds) every metric under `prefix`. */
export function definePromMetrics(registry: Registry, prefix: string): PromMetrics {
  const made: Partial<Record<MetricRole, unknown>> = {}
  for (const [role, spec] of Object.entries(METRICS) as [MetricRole, MetricSpec][]) {
    if (role !== 'duration') made[role] = ensure(registry, prefix + spec.prom, spec)
  }
  const { duration: spec } = METRICS
  const durationName = prefix + spec.prom
  const duration = SampledHistogram.ensure(
    registry,
    durationName,
    spec.help.replace(',', ` (one in ${TIMING_SAMPLE_EVERY} timed),`),
    spec.labels,
    spec.buckets,
  )
  if (!duration) {
    throw new InvalidOptionError(
      `registerMetrics: the registry already has a metric "${durationName}" of another kind; pass another prefix`,
    )
  }
  const metrics = made as Omit<PromMetrics, 'duration' | 'pulled' | 'redisGauges'>
  return {
    ...metrics,
    duration,
    pulled: PULLED.map((role) => metrics[role]),
    redisGauges: REDIS_GAUGES.map((role) => metrics[role]),
  }
}
