/**
 * Scenario 12: what metrics cost on the hottest path, an L1 (memory) get hit with prefix and
 * TTL on random keys: the same cache and the same loop with no metrics, with the Prometheus door
 * registered (prom-client registry), and with the OpenTelemetry door registered (SDK meter
 * provider). Metrics are switched on and off between the timed runs of each round, so every
 * round measures the three modes moments apart under the same load.
 *
 * Run on its own: `node --import tsx bench/metrics.ts [quick] [--out FILE]` (loads src/ through
 * tsx, or the build named by CACHEKIT_BENCH_MODULE); `npm run bench -- metrics` runs it with the others.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import type * as Cachekit from '../src/index.js'
import type * as Otel from '../src/observe/otel/index.js'
import type * as Prometheus from '../src/observe/prometheus/index.js'
import { MODULE_ENV } from './lib/build.js'
import { generate, makeValue, PREFIX, randomOrder, TTL, userKey } from './lib/data.js'
import { environment } from './lib/env.js'
import { ops, ratio, table } from './lib/format.js'
import { batchLoop } from './lib/loops.js'
import { median } from './lib/measure.js'
import { defineScenario, progress, ratioTarget } from './lib/scenario.js'

const ENTRIES = 10_000
const BATCH = 1_000
const FULL = { rounds: 60, timeMs: 40, warmupMs: 10 }
const QUICK = { rounds: 6, timeMs: 40, warmupMs: 10 }

type Mode = 'off' | 'prometheus' | 'otel'
const MODES: readonly Mode[] = ['off', 'prometheus', 'otel']
const LABELS: Record<Mode, string> = {
  off: 'metrics off (no subscriber: one boolean check per get)',
  prometheus: 'Prometheus door on (registerMetrics, prom-client registry)',
  otel: 'OpenTelemetry door on (registerOtelMetrics, SDK MeterProvider)',
}

/** cachekit and its doors, from the build the runner made or from src/ through tsx. */
async function load() {
  const built = process.env[MODULE_ENV]
  const url = (door: string) =>
    built ? pathToFileURL(path.join(path.dirname(built), door, 'index.js')).href : `../src/${door}/index.js`
  const core = (await import(built ? pathToFileURL(built).href : '../src/index.js')) as typeof Cachekit
  const prometheus = (await import(url('observe/prometheus'))) as typeof Prometheus
  const otel = (await import(url('observe/otel'))) as typeof Otel
  return { core, prometheus, otel, how: built ? 'its tsc build' : 'src/ through tsx' }
}

/**
 * Operations per CPU second of this process (user + system time, GC threads included) over about
 * `ms` of wall time. CPU time rather than wall time: on a shared machine other processes steal
 * wall time from one mode and not the next, while the CPU time an operation costs stays put.
 */
async function timeFor(fn: () => Promise<unknown>, ms: number): Promise<number> {
  let batches = 0
  const start = performance.now()
  const cpu = process.cpuUsage()
  while (performance.now() - start < ms) {
    await fn()
    batches++
  }
  const used = process.cpuUsage(cpu)
  return (batches * BATCH * 1e6) / (used.user + used.system)
}

export async function runMetricsBench(quick: boolean) {
  const options = quick ? QUICK : FULL
  const { core, prometheus, otel, how } = await load()
  const promClient = await import('prom-client')
  const sdk = await import('@opentelemetry/sdk-metrics')
  const cache = core.createCache({
    store: core.memoryStore({ maxEntries: 2 * ENTRIES }),
    prefix: PREFIX,
    ttl: TTL,
  })
  const keys = generate(ENTRIES, userKey)
  const values = generate(ENTRIES, makeValue('small'))
  for (let i = 0; i < ENTRIES; i++) await cache.set(keys[i] as string, values[i])
  const order = randomOrder(ENTRIES)
  const misses = { count: 0 }
  const loops = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      batchLoop(
        `cachekit get ${mode}`,
        (key) => cache.get(key),
        { async: true, check: true },
        { keys, values, order, size: BATCH },
        misses,
      ) as () => Promise<unknown>,
    ]),
  ) as Record<Mode, () => Promise<unknown>>

  const registry = new promClient.Registry()
  const reader = new sdk.PeriodicExportingMetricReader({
    exporter: new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new sdk.MeterProvider({ readers: [reader] })
  const switchOn = (mode: Mode): (() => void) => {
    if (mode === 'prometheus') return prometheus.registerMetrics({ registry, caches: [cache] }).close
    if (mode === 'otel') return otel.registerOtelMetrics({ meterProvider, caches: [cache] }).close
    return () => {}
  }

  // Each round: off, the two doors (in alternating order), off again; a door's ratio is taken
  // against the mean of the two "off" runs around it, which cancels slow drift in the machine.
  const rounds: Record<Mode, number[]> = { off: [], prometheus: [], otel: [] }
  const ratios: Record<Mode, number[]> = { off: [], prometheus: [], otel: [] }
  const run = async (mode: Mode) => {
    const off = switchOn(mode)
    try {
      await timeFor(loops[mode], options.warmupMs)
      return await timeFor(loops[mode], options.timeMs)
    } finally {
      off()
    }
  }
  for (let round = 0; round < options.rounds; round++) {
    const doors: Mode[] = round % 2 === 0 ? ['prometheus', 'otel'] : ['otel', 'prometheus']
    const before = await run('off')
    const measured: Partial<Record<Mode, number>> = {}
    for (const mode of doors) measured[mode] = await run(mode)
    const after = await run('off')
    const base = (before + after) / 2
    rounds.off.push(base)
    ratios.off.push(after / before)
    for (const mode of doors) {
      rounds[mode].push(measured[mode] as number)
      ratios[mode].push((measured[mode] as number) / base)
    }
    if ((round + 1) % 10 === 0 || round + 1 === options.rounds) {
      progress(
        `round ${round + 1}/${options.rounds}: ${MODES.map((m) => `${m} ${ops(rounds[m].at(-1) ?? 0)}`).join(', ')}`,
      )
    }
  }
  if (misses.count !== 0) throw new Error(`a hit path missed ${misses.count} times`)
  // The scrape must see what was counted: the metrics were live, not a no-op.
  prometheus.registerMetrics({ registry, caches: [cache] })
  const scraped = await registry.getSingleMetricAsString('cachekit_cache_hits_total')
  const stats = cache.stats()
  if (!scraped.includes(String(stats.hits))) throw new Error(`the scrape does not show ${stats.hits} hits`)
  await meterProvider.shutdown()
  await cache.close()

  const best = (mode: Mode) => Math.max(...rounds[mode])
  const paired = (mode: Mode) => median(ratios[mode])
  const overhead = (mode: Mode) => 1 / paired(mode) - 1
  const rows = MODES.map((mode) => [
    LABELS[mode],
    ops(best(mode)),
    mode === 'off' ? `1.00x (A/A control: ${ratio(paired('off'))})` : ratio(paired(mode)),
    mode === 'off' ? '-' : `${(overhead(mode) * 100).toFixed(1)}%`,
  ])
  const targets = [
    ratioTarget(
      'metrics on ÷ off, L1 get hit, Prometheus door (overhead <= 10%)',
      paired('prometheus'),
      '>=',
      0.9,
    ),
    ratioTarget(
      'metrics on ÷ off, L1 get hit, OpenTelemetry door (overhead <= 10%)',
      paired('otel'),
      '>=',
      0.9,
    ),
  ]
  const body = [
    `An in-process cache as applications configure it (memory store, prefix \`${PREFIX}\`, default TTL \`${TTL}\`), ${ENTRIES.toLocaleString('en-US')} small objects, every read a hit, keys read in a seeded random order; each timed call awaits ${BATCH.toLocaleString('en-US')} gets. cachekit loaded as ${how}.`,
    `Each of ${options.rounds} rounds runs: metrics off, the two doors (order alternating), metrics off again (${options.warmupMs} ms warm-up, ${options.timeMs} ms timed each), switching a door on (register) and off (close) around its run. Figures are operations per CPU second of the process (user + system time, so time stolen by other processes on a shared machine does not count), best round; "on ÷ off" is the median over rounds of the door's figure divided by the mean of the two "off" runs around it, and the A/A control is the median of the second "off" run divided by the first (the noise floor).`,
    `With a door on, counters are read from \`cache.stats()\` at scrape time (no per-hit work), and one get in ${core.TIMING_SAMPLE_EVERY} is timed and published on \`cachekit:timing\` for the latency histogram (the OpenTelemetry door records one of those in 16 by default, as its SDK's \`record()\` costs ~1.7 µs; its counted events are added up in plain numbers and observed at collection); that sampled timing is the cost measured here.`,
    '',
    table(['Mode', 'get hit ops per CPU second', 'on ÷ off', 'overhead'], rows),
    '',
    `Per round (ops/s): ${MODES.map((m) => `${m} [${rounds[m].map((v) => Math.round(v / 1000)).join(', ')}]k`).join('; ')}.`,
  ].join('\n')
  return { body, targets }
}

export default defineScenario({
  title: '12. Metrics: an L1 get hit with metrics on vs off',
  run: ({ quick }) => runMetricsBench(quick),
})

// Run directly: print the section, and write it to --out when given.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const quick = process.argv.includes('quick')
  const at = process.argv.indexOf('--out')
  const report = await runMetricsBench(quick)
  const env = environment(process.env[MODULE_ENV] ? 'its tsc build' : 'src/ through tsx')
  const text = [
    '# Metrics benchmark (bench/metrics.ts)',
    '',
    `Measured ${env.date}, Node ${env.node} (V8 ${env.v8}), ${env.cpu} × ${env.cores} cores, ${env.memoryGiB} GiB RAM, ${env.platform}; cachekit ${env.source}.`,
    '',
    report.body,
    '',
    '## Targets',
    '',
    table(
      ['Target', 'Goal', 'Measured', 'Status'],
      report.targets.map((t) => [t.name, t.goal, t.measured, t.met ? 'met' : 'NOT met']),
    ),
    '',
  ].join('\n')
  process.stdout.write(text)
  if (at > 0 && process.argv[at + 1]) await writeFile(process.argv[at + 1] as string, text)
  process.exit(0)
}
