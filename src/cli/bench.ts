import { randomBytes } from 'node:crypto'
import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { onInterrupt } from './interrupt.js'
import { EXIT, formatMs, type Outcome, UsageError } from './output.js'
import { round } from './ping.js'

export interface BenchOptions {
  /** How long to run, in seconds (1 to 300). */
  readonly duration: number
  /** Calls in flight at once. */
  readonly concurrency: number
  /** Bytes per value. */
  readonly size: number
  /** Fraction of reads, 0 to 1. */
  readonly reads: number
}

/** Percentiles of sorted latencies. */
function percentiles(sorted: Float64Array): { p50: number; p90: number; p99: number; max: number } {
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) }
}

/**
 * `cachekit bench`: `concurrency` workers call `get` and `set` through the cache (codec included)
 * for `duration` seconds on their own keys (`cachekit-bench:*` under the prefix, 10 s TTL, deleted
 * afterwards), then report throughput and latency percentiles per operation. Bounded in time;
 * Ctrl-C ends it early and reports what was measured.
 */
export async function benchCommand(ctx: CommandContext, options: BenchOptions): Promise<Outcome> {
  if (!(options.duration >= 0.1 && options.duration <= 300))
    throw new UsageError('--duration takes 0.1 to 300 seconds')
  if (!(options.concurrency >= 1 && options.concurrency <= 1000))
    throw new UsageError('--concurrency takes 1 to 1000')
  if (!(options.size >= 0 && options.size <= 1_000_000))
    throw new UsageError('--size takes 0 to 1000000 bytes')
  if (!(options.reads >= 0 && options.reads <= 1))
    throw new UsageError('--reads takes a fraction from 0 to 1')
  return withConnection(ctx, async (connection) => {
    const cache = connection.cache.namespace('cachekit-bench')
    const value = randomBytes(options.size).toString('base64').slice(0, options.size)
    const keys = 1000
    await cache.setMany(Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, value])), {
      ttl: '1m',
    })
    const latencies = { get: [] as number[], set: [] as number[] }
    let errors = 0
    const interrupt = onInterrupt()
    const until = performance.now() + options.duration * 1000
    const started = performance.now()
    const worker = async (id: number) => {
      let i = id
      while (performance.now() < until && !interrupt.stopped) {
        const key = `k${(i += options.concurrency) % keys}`
        const read = Math.random() < options.reads
        const t = performance.now()
        try {
          if (read) await cache.get(key)
          else await cache.set(key, value, { ttl: '1m' })
          ;(read ? latencies.get : latencies.set).push(performance.now() - t)
        } catch {
          errors++
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: options.concurrency }, (_, id) => worker(id)))
    } finally {
      interrupt.dispose()
    }
    const seconds = (performance.now() - started) / 1000
    await cache.deletePattern('*').catch(() => 0)
    const report = (samples: number[]) => {
      const sorted = Float64Array.from(samples).sort()
      return {
        ops: samples.length,
        opsPerSecond: Math.round(samples.length / seconds),
        ...percentiles(sorted),
      }
    }
    const get = report(latencies.get)
    const set = report(latencies.set)
    const total = get.ops + set.ops
    const json = {
      store: connection.kind,
      url: connection.safeUrl,
      seconds: round(seconds),
      concurrency: options.concurrency,
      valueBytes: options.size,
      ops: total,
      opsPerSecond: Math.round(total / seconds),
      errors,
      interrupted: interrupt.stopped,
      get,
      set,
    }
    const line = (name: string, r: ReturnType<typeof report>) =>
      `${name}  ${r.ops} ops, ${r.opsPerSecond}/s  p50 ${formatMs(r.p50)}  p90 ${formatMs(r.p90)}  p99 ${formatMs(r.p99)}  max ${formatMs(r.max)}`
    return {
      code: interrupt.stopped ? EXIT.interrupted : errors > 0 ? EXIT.error : EXIT.ok,
      json,
      text: [
        `${connection.kind} ${connection.safeUrl}: ${total} ops in ${seconds.toFixed(1)} s (${json.opsPerSecond}/s), concurrency ${options.concurrency}, ${options.size}-byte values, ${errors} errors`,
        line('get', get),
        line('set', set),
      ],
    }
  })
}
