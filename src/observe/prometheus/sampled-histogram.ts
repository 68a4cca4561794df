import type { Registry } from 'prom-client'
import type { Labels } from '../sources.js'

/** One label set's buckets. */
interface Series {
  readonly labels: Labels
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array
  sum: number
  count: number
}

const KIND = Symbol.for('cachekit.prometheus.sampled-histogram')

/**
 * A Prometheus histogram that costs a bucket search and three additions per observation: the
 * label set is resolved once (the caller passes the same frozen `labels` object for the same
 * series) instead of hashed per call as prom-client's Histogram does. Registered as an ordinary
 * metric: the registry calls `get()` at each scrape.
 */
export class SampledHistogram {
  readonly [KIND] = true
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #series = new Map<Labels, Series>()
  readonly #byKey = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  /** The metric of that name in the registry if it is one of these (a hot reload), else a new one registered there. */
  static ensure(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): SampledHistogram | undefined {
    const existing = registry.getSingleMetric(name) as unknown as SampledHistogram | undefined
    if (existing) {
      const same =
        existing[KIND] === true &&
        JSON.stringify(existing.labelNames) === JSON.stringify(labelNames) &&
        JSON.stringify(existing.buckets) === JSON.stringify(buckets)
      return same ? existing : undefined
    }
    const made = new SampledHistogram(name, help, labelNames, buckets)
    registry.registerMetric(made as never)
    return made
  }

  observe(labels: Labels, value: number): void {
    let series = this.#series.get(labels)
    if (series === undefined) {
      // A label set seen under another object (another registration) joins the same series.
      const key = this.labelNames.map((name) => labels[name] ?? '').join('\u0000')
      series = this.#byKey.get(key)
      if (series === undefined) {
        series = { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }
        this.#byKey.set(key, series)
      }
      this.#series.set(labels, series)
    }
    const { buckets } = this
    let i = 0
    while (i < buckets.length && value > (buckets[i] as number)) i++
    series.counts[i] = (series.counts[i] as number) + 1
    series.sum += value
    series.count++
  }

  /** What prom-client's registry formats: cumulative buckets, then `_sum` and `_count`, per series. */
  async get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = []
    for (const series of this.#byKey.values()) {
      let cumulative = 0
      this.buckets.forEach((le, i) => {
        cumulative += series.counts[i] as number
        values.push({
          labels: { ...series.labels, le },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        })
      })
      values.push({
        labels: { ...series.labels, le: '+Inf' },
        value: series.count,
        metricName: `${this.name}_bucket`,
      })
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  reset(): void {
    this.#series.clear()
    this.#byKey.clear()
  }
}
