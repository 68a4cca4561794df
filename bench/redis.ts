/**
 * Scenario 5: the Redis store against the clients and Redis caches a user would pick instead
 * (lib/redis-contenders.ts), on one throwaway `redis-server` (lib/redis-server.ts) over loopback,
 * every one configured with a prefix and a default TTL. get and set 100 in flight on one
 * connection, in random key order over 10,000 and 100,000 keys of small objects and ~1 KB
 * documents; one at a time, getMany(100) (and the commands it costs the server) on the first
 * workload; deletePattern over 100,000 keys (lib/redis-deletion.ts). Raw node-redis with its
 * per-command timer off, plus the JSON an application needs for objects, is the limit.
 */

import { createClient } from 'redis'
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
import { met, ops, percent, ratio, table } from './lib/format.js'
import {
  inFlightTask,
  type Measured,
  type MeasureOptions,
  measure,
  median,
  type OpTask,
  pairedRatio,
  roundsNote,
  serialTask,
} from './lib/measure.js'
import {
  BENTO,
  CACHEKIT,
  KEYV,
  NODE_REDIS,
  type RedisContender,
  redisContenders,
} from './lib/redis-contenders.js'
import { DELETE_KEYS, type Deletion, measureDeletion } from './lib/redis-deletion.js'
import {
  type BenchRedis,
  commandCounts,
  commandDelta,
  describeCommands,
  withBenchRedis,
} from './lib/redis-server.js'
import { defineScenario, progress, ratioTarget, type Target } from './lib/scenario.js'
import { version } from './lib/versions.js'

/** Operations per timed call: one at a time, and with {@link IN_FLIGHT} callers. */
const SERIAL_BATCH = 200
const IN_FLIGHT = 100
const PARALLEL_BATCH = 2_000
const MANY = 100
/** getMany calls per timed call. */
const MANY_BATCH = 20

const FULL: MeasureOptions = { time: 150, warmupTime: 40, rounds: 6, iterations: 4 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1, iterations: 4 }

type Op = 'get100' | 'set100' | 'get1' | 'set1' | 'getMany'
const HEADERS: Record<Op, string> = {
  get100: 'get, 100 in flight',
  set100: 'set, 100 in flight',
  get1: 'get, 1 at a time',
  set1: 'set, 1 at a time',
  getMany: `getMany(${MANY}) calls/s`,
}

export default defineScenario({
  title: '5. Redis store: get / set / getMany / deletePattern with prefix and TTL, random keys, loopback',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const contenders = await redisContenders(server.url)
  const options = quick ? QUICK : FULL
  try {
    const sections: string[] = []
    const targets: Target[] = []
    let commands = ''
    let ckMany = new Map<string, number>()
    for (const [index, workload] of WORKLOADS.entries()) {
      const done = await runWorkload(server, contenders, workload, index === 0, options)
      sections.push(done.section)
      targets.push(...done.targets)
      if (done.commands) {
        commands = done.commands.table
        ckMany = done.commands.ckMany
      }
    }
    const oneRoundTrip = ckMany.size === 1 && ckMany.get('mget') === 1
    const deletion = await measureDeletion(server, contenders, quick ? 1 : 3)
    const ckDelete = deletion.get(CACHEKIT)!
    targets.push(
      {
        name: `cachekit getMany(${MANY}): commands the server ran (${describeWorkload(WORKLOADS[0]!)})`,
        goal: '1 MGET (one round trip)',
        measured: describeCommands(ckMany),
        met: oneRoundTrip,
      },
      {
        name: `cachekit deletePattern over ${DELETE_KEYS.toLocaleString('en-US')} keys`,
        goal: '>= 100,000 keys/s',
        measured: `${ops(ckDelete.best)} keys/s`,
        met: ckDelete.best >= 100_000,
      },
    )

    const body = [
      `One \`redis-server\` ${server.version} started for this scenario on a free loopback port (no persistence), shared by every contender, each on its own connection and under its own prefix. Every contender is configured as an application configures it: prefix \`${PREFIX}\` (or \`${PREFIX}-<library>\`, so the contenders' keys stay apart) and a default TTL of \`${TTL}\`; every set relies on that default. Values: small objects like \`${JSON.stringify(makeValue('small')(1))}\` or ~1 KB documents (\`profileDocument()\`; cachekit stores them msgpack-encoded, the others as JSON). Before each workload the server is emptied and every contender is filled with every key, so every get is a hit (checked).`,
      `Keys are read and written in a random order (a seeded shuffle of the indexes, made before timing, the same for every contender). "100 in flight": ${IN_FLIGHT} callers each awaiting its own calls in a loop over the contender's connection, ${PARALLEL_BATCH.toLocaleString('en-US')} calls per timed call, so ~100 are always waiting for a reply. "1 at a time": ${SERIAL_BATCH} awaited calls in a row per timed call. ops/s is ${roundsNote(options)}. "cachekit ÷ row" is the median of per-round ratios (the two ran moments apart in each round); the targets use it.`,
      `Client versions: redis (node-redis) ${version('redis')}, ioredis ${version('ioredis')}, bentocache ${version('bentocache')}, keyv ${version('keyv')}, @keyv/redis ${version('@keyv/redis')}.`,
      '',
      ...sections,
      'Commands the server ran for one call (from `INFO commandstats` before and after, on the otherwise idle server, first workload):',
      '',
      commands,
      '',
      deletionSection(contenders, deletion),
      '',
      'Contenders:',
      '',
      ...contenders.map((c) => `- **${c.name}**: ${c.note}`),
      '',
      `cachekit: getMany(${MANY}) ${met(oneRoundTrip)} as one round trip (${describeCommands(ckMany)}); deletePattern ${met(ckDelete.best >= 100_000)} at ${ops(ckDelete.best)} keys/s.`,
    ].join('\n')
    return { body, targets }
  } finally {
    for (const c of contenders) await c.close().catch(() => {})
  }
}

async function runWorkload(
  server: BenchRedis,
  contenders: readonly RedisContender[],
  workload: Workload,
  first: boolean,
  options: MeasureOptions,
) {
  const label = describeWorkload(workload)
  const keys = generate(workload.entries, userKey)
  const values = generate(workload.entries, makeValue(workload.kind))
  const order = randomOrder(workload.entries)
  await flush(server)
  progress(`${label}: filling every contender`)
  for (const c of contenders) {
    for (let at = 0; at < workload.entries; at += 100) {
      await Promise.all(keys.slice(at, at + 100).map((key, j) => c.set(key, values[at + j])))
    }
    for (const i of [0, 4_321, workload.entries - 1]) {
      // The JSON contenders hand the document's Date back as a string: the same data for them.
      if (JSON.stringify(await c.get(keys[i]!)) !== JSON.stringify(values[i]))
        throw new Error(`${c.name} did not read back ${keys[i]}`)
    }
  }
  const commands = first ? await countCommands(server, contenders, keys) : undefined

  const misses = { count: 0 }
  const failures = new Map<string, Failure>()
  const opsHere: readonly Op[] = first
    ? ['get100', 'set100', 'get1', 'set1', 'getMany']
    : ['get100', 'set100']
  const tasks: OpTask[] = []
  for (const op of opsHere)
    for (const c of contenders) tasks.push(task(c, op, keys, values, order, misses, failures))
  progress(`${label}: ${tasks.length} tasks × ${options.rounds} rounds`)
  const results = await measure(tasks, options)
  if (misses.count !== 0) throw new Error(`${misses.count} gets missed; the figures would not be hits`)

  const at = (name: string, op: Op): Measured => results.get(`${name} ${op}`)!
  const vs = (op: Op, name: string) => pairedRatio(at(CACHEKIT, op), at(name, op))
  const rows = contenders.map((c) => [
    c.name,
    ...opsHere.flatMap((op) => [
      `${ops(at(c.name, op).opsPerSec)} ${percent(at(c.name, op).spread)}`,
      ratio(vs(op, c.name)),
    ]),
  ])
  const targets: Target[] = []
  for (const [op, what] of [
    ['get100', 'get'],
    ['set100', 'set'],
  ] as const) {
    targets.push(
      ratioTarget(
        `cachekit ${what} ÷ raw node-redis ${what}, 100 in flight (${label})`,
        vs(op, NODE_REDIS),
        '>=',
        0.85,
      ),
      ratioTarget(`cachekit ${what} ÷ Keyv ${what}, 100 in flight (${label})`, vs(op, KEYV), '>=', 1.5),
      ratioTarget(
        `cachekit ${what} ÷ BentoCache ${what}, 100 in flight (${label})`,
        vs(op, BENTO),
        '>=',
        1.5,
      ),
    )
  }
  const section = [
    `### ${label}`,
    '',
    table(['Contender', ...opsHere.flatMap((op) => [HEADERS[op], 'cachekit ÷ row'])], rows),
    '',
    failures.size > 0
      ? `Calls that threw during the timed runs (counted, not retried; they make their row's figure optimistic): ${[...failures].map(([who, f]) => `${who} ${f.count} (${f.first})`).join('; ')}.\n`
      : 'No call threw during the timed runs.\n',
    first
      ? `getMany: ${MANY_BATCH} awaited calls per timed call, each for ${MANY} existing keys taken in the random order (keys/s is ${MANY}× calls/s). BentoCache has no getMany; its row is \`Promise.all\` of ${MANY} gets, what a user of it writes.\n`
      : '',
  ].join('\n')
  return { section, targets, commands }
}

/** Calls that threw (a deadline under load, say): counted and reported, not retried. */
interface Failure {
  count: number
  readonly first: string
}

function task(
  c: RedisContender,
  op: Op,
  keys: readonly string[],
  values: readonly unknown[],
  order: Uint32Array,
  misses: { count: number },
  failures: Map<string, Failure>,
): OpTask {
  const name = `${c.name} ${op}`
  const failed = (error: unknown) => {
    const seen = failures.get(c.name)
    if (seen) seen.count++
    else failures.set(c.name, { count: 1, first: `${(error as Error).name}: ${(error as Error).message}` })
  }
  const get = async (j: number) => {
    try {
      if ((await c.get(keys[order[j]!]!)) === undefined) misses.count++
    } catch (error) {
      failed(error)
    }
  }
  const set = async (j: number) => {
    try {
      await c.set(keys[order[j]!]!, values[order[j]!])
    } catch (error) {
      failed(error)
    }
  }
  const n = order.length
  if (op === 'get100') return inFlightTask(name, IN_FLIGHT, PARALLEL_BATCH, n, get)
  if (op === 'set100') return inFlightTask(name, IN_FLIGHT, PARALLEL_BATCH, n, set)
  if (op === 'get1') return serialTask(name, SERIAL_BATCH, n, get)
  if (op === 'set1') return serialTask(name, SERIAL_BATCH, n, set)
  const groups = generate(n / MANY, (g) =>
    Array.from(order.subarray(g * MANY, (g + 1) * MANY), (i) => keys[i]!),
  )
  let at = 0
  return {
    name,
    async: true,
    ops: MANY_BATCH,
    fn: async () => {
      const start = at
      at = (at + MANY_BATCH) % groups.length
      for (let g = start; g < start + MANY_BATCH; g++) {
        if (c.found(await c.getMany(groups[g]!)) !== MANY) misses.count++
      }
    },
  }
}

/** What one call costs the server, counted on the otherwise idle server before any timing. */
async function countCommands(
  server: BenchRedis,
  contenders: readonly RedisContender[],
  keys: readonly string[],
) {
  const rows: string[][] = []
  let ckMany = new Map<string, number>()
  const count = async (call: () => Promise<unknown>) => {
    const before = await commandCounts(server.port)
    await call()
    return commandDelta(before, await commandCounts(server.port))
  }
  for (const c of contenders) {
    const get = await count(() => c.get(keys[1]!))
    const set = await count(() => c.set(keys[1]!, { id: 1 }))
    const many = await count(async () => {
      const n = c.found(await c.getMany(keys.slice(0, MANY)))
      if (n !== MANY) throw new Error(`${c.name} getMany found ${n} of ${MANY}`)
    })
    if (c.name === CACHEKIT) ckMany = many
    rows.push([c.name, describeCommands(get), describeCommands(set), describeCommands(many)])
  }
  return { table: table(['Contender', 'get', 'set', `getMany(${MANY})`], rows), ckMany }
}

async function flush(server: BenchRedis): Promise<void> {
  const admin = createClient({ url: server.url })
  await admin.connect()
  await admin.flushAll()
  admin.destroy()
}

function deletionSection(contenders: readonly RedisContender[], deletion: Map<string, Deletion>): string {
  const limit = deletion.get(NODE_REDIS)
  const rows = contenders.map((c) => {
    const d = deletion.get(c.name)!
    const toLimit = limit
      ? median(d.rounds.map((keysPerSec, round) => keysPerSec / limit.rounds[round]!))
      : Number.NaN
    return [c.name, ops(d.best), `${d.bestMs.toFixed(0)} ms`, ratio(toLimit), c.deleter.note]
  })
  return [
    `### Deleting ${DELETE_KEYS.toLocaleString('en-US')} keys by pattern`,
    '',
    `Each round: the server is emptied, then ${DELETE_KEYS.toLocaleString('en-US')} 1 KB keys matching the contender's pattern and 10,000 others are written raw; only the deletion is timed, and afterwards exactly the others must remain (checked). keys/s and time are the best of ${deletion.get(CACHEKIT)!.rounds.length} round(s); "÷ node-redis loop" is the median of per-round ratios to the raw SCAN + UNLINK loop.`,
    '',
    table(['Contender', 'keys/s', 'time', '÷ node-redis loop', 'how'], rows),
  ].join('\n')
}
