/**
 * Scenario 1: an in-process cache, configured as applications configure it (prefix and default
 * TTL), read in random key order over 10,000 and 100,000 keys of small objects and ~1 KB
 * documents. `get` hit (and, for small objects, `set` and `getOrSet` hit) of cachekit's memory
 * store against raw lru-cache and the memory stores of BentoCache, cacheable and cache-manager
 * (lib/memory-contenders.ts), with the old best case as one labelled extra row.
 */

import { isDeepStrictEqual } from 'node:util'
import {
  describeWorkload,
  generate,
  makeValue,
  PREFIX,
  randomOrder,
  TTL,
  userKey,
  WORKLOADS,
  type Workload,
} from './lib/data.js'
import { ops, percent, ratio, table } from './lib/format.js'
import { batchLoop, consecutiveOrder, type Misses } from './lib/loops.js'
import { type MeasureOptions, measure, type OpTask, pairedRatio, roundsNote } from './lib/measure.js'
import {
  BENTO,
  CACHE_MANAGER,
  CACHEKIT,
  LRU_AWAITED,
  type MemoryContender,
  memoryContenders,
} from './lib/memory-contenders.js'
import { defineScenario, progress, ratioTarget, type Target } from './lib/scenario.js'

/** Operations per timed call: amortizes the timer (~50 ns) over ~1,000 operations of 20 ns to 20 µs. */
const BATCH = 1_000
// Many short rounds: on a shared machine each contender then gets some undisturbed rounds.
const FULL: MeasureOptions = { time: 100, warmupTime: 20, rounds: 8 }
const QUICK: MeasureOptions = { time: 60, warmupTime: 20, rounds: 1 }

type Op = 'get' | 'set' | 'getOrSet'
const HEADERS: Record<Op, string> = { get: 'get hit ops/s', set: 'set ops/s', getOrSet: 'getOrSet hit ops/s' }
// The target pairs run back to back, so their per-round ratios compare rounds under the same load.
const FIRST = [CACHEKIT, LRU_AWAITED, CACHE_MANAGER, BENTO]
const rank = (name: string) => (FIRST.includes(name) ? FIRST.indexOf(name) : FIRST.length)

const gc = (globalThis as { gc?: () => void }).gc

export default defineScenario({
  title: '1. Memory cache: get / set / getOrSet with prefix and TTL, random keys, 10k and 100k entries',
  async run({ quick }) {
    const options = quick ? QUICK : FULL
    const sections: string[] = []
    const targets: Target[] = []
    let notes: string[] = []
    for (const [index, workload] of WORKLOADS.entries()) {
      const done = await runWorkload(workload, index === 0, options)
      sections.push(done.section)
      targets.push(...done.targets)
      notes = done.notes
      gc?.()
    }
    const body = [
      `Every contender is configured as the applications cachekit serves configure a cache: prefix \`${PREFIX}\` and a default TTL of \`${TTL}\`, wherever the library has the notion (the list below says how). Keys like \`${userKey(0)}\`, values either small objects like \`${JSON.stringify(makeValue('small')(1))}\` or ~1 KB documents (\`profileDocument()\` of bench/lib/data.ts, a Date and nested objects included), all generated before timing; every cache is filled with every key first, so every get and getOrSet is a hit (checked: no miss, no factory call).`,
      `Keys are read in a random order (a seeded shuffle of the indexes, made before timing, the same order for every contender): each timed call runs ${BATCH.toLocaleString('en-US')} operations on the next ${BATCH.toLocaleString('en-US')} indexes of that order and awaits every async call; ops/s is ${roundsNote(options)}. set and getOrSet are measured on the small-object workloads.`,
      '"cachekit ÷ row" is cachekit ops/s divided by the row\'s, as the median of the per-round ratios (the two run moments apart in each round, under the same load): above 1, cachekit is faster. The targets use these ratios. The one row labelled "best case" (no prefix, no TTL, consecutive keys) is there to show what the configuration costs; no target uses it.',
      '',
      ...sections,
      'Contenders:',
      '',
      ...notes,
    ].join('\n')
    return { body, targets }
  },
})

async function runWorkload(
  workload: Workload,
  best: boolean,
  options: MeasureOptions,
): Promise<{ section: string; targets: Target[]; notes: string[] }> {
  const label = describeWorkload(workload)
  progress(`${label}: generating and filling`)
  const keys = generate(workload.entries, userKey)
  const values = generate(workload.entries, makeValue(workload.kind))
  const random = randomOrder(workload.entries)
  const consecutive = consecutiveOrder(workload.entries)
  const counts = { factoryCalls: 0 }
  const misses: Misses = { count: 0 }
  const contenders = memoryContenders(
    2 * workload.entries,
    () => {
      counts.factoryCalls++
      return values[0]
    },
    best,
  ).sort((a, b) => rank(a.name) - rank(b.name))

  for (const c of contenders) {
    await c.fill(keys, values)
    for (const i of [0, 4_321, workload.entries - 1]) {
      const got = await c.get(keys[i]!)
      // Peers that store JSON hand the document's Date back as a string: the same data for them.
      const same = isDeepStrictEqual(got, values[i]) || JSON.stringify(got) === JSON.stringify(values[i])
      if (!same) throw new Error(`${c.name} returned ${JSON.stringify(got)}`)
    }
  }

  const opsHere: readonly Op[] = workload.kind === 'small' ? ['get', 'set', 'getOrSet'] : ['get']
  const tasks: OpTask[] = []
  for (const op of opsHere) {
    for (const c of contenders) {
      if (c.getOnly && op !== 'get') continue
      const input = { keys, values, order: c.consecutive ? consecutive : random, size: BATCH }
      const call = op === 'get' ? c.get : op === 'set' ? c.set : c.getOrSet
      const mode = { async: !c.sync, check: op !== 'set' }
      tasks.push({
        name: `${c.name} ${op}`,
        ops: BATCH,
        async: mode.async,
        fn: batchLoop(`${c.name} ${op}`, call, mode, input, misses),
      })
    }
  }
  progress(`${label}: ${tasks.length} tasks × ${options.rounds} rounds`)
  const results = await measure(tasks, options)
  if (misses.count !== 0 || counts.factoryCalls !== 0) {
    throw new Error(`a hit path missed: ${misses.count} misses, ${counts.factoryCalls} factory calls`)
  }

  const at = (name: string, op: Op) => results.get(`${name} ${op}`)
  const rows = contenders.map((c) => [
    c.name,
    ...opsHere.flatMap((op) => {
      const m = at(c.name, op)
      const mine = at(CACHEKIT, op)!
      return m ? [`${ops(m.opsPerSec)} ${percent(m.spread)}`, ratio(pairedRatio(mine, m))] : ['n/a', 'n/a']
    }),
  ])
  const vs = (name: string) => pairedRatio(at(CACHEKIT, 'get')!, at(name, 'get')!)
  const targets = [
    ratioTarget(`cachekit get hit ÷ awaited lru-cache get (${label})`, vs(LRU_AWAITED), '>=', 0.6),
    ratioTarget(`cachekit get hit ÷ cache-manager get (${label})`, vs(CACHE_MANAGER), '>=', 3),
    ratioTarget(`cachekit get hit ÷ BentoCache get (${label})`, vs(BENTO), '>=', 1.5),
  ]
  const section = [
    `### ${label}`,
    '',
    table(['Contender', ...opsHere.flatMap((op) => [HEADERS[op], 'cachekit ÷ row'])], rows),
    '',
  ].join('\n')
  return { section, targets, notes: contenders.map((c: MemoryContender) => `- **${c.name}**: ${c.note}`) }
}
