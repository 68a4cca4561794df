/**
 * Scenario 7: rate limiting. Decisions per second and Redis round trips per decision, cachekit's
 * limiter (`cachekit/ratelimit`) against rate-limiter-flexible (RateLimiterRedis over node-redis,
 * RateLimiterUnion for several policies, RateLimiterMemory) and express-rate-limit with
 * rate-limit-redis, on one throwaway `redis-server` (lib/redis-server.ts) over loopback. Round
 * trips are counted by a loopback proxy (lib/round-trips.ts) and the commands behind them by
 * INFO commandstats, one decision at a time, outside any timed code.
 */

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryStore as ErlMemoryStore, rateLimit } from 'express-rate-limit'
import { RedisStore as ErlRedisStore, type RedisReply } from 'rate-limit-redis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible'
import { createClient } from 'redis'
import { createRateLimiter, type RateLimiter, type RateLimitResult } from './lib/cachekit-ratelimit.js'
import { redisStore } from './lib/cachekit-redis.js'
import { generate, windows } from './lib/data.js'
import { met, ops, percent, ratio, table } from './lib/format.js'
import {
  inFlight,
  type Measured,
  type MeasureOptions,
  measure,
  type OpTask,
  pairedRatio,
  roundsNote,
} from './lib/measure.js'
import {
  type BenchRedis,
  command,
  commandCounts,
  commandDelta,
  describeCommands,
  withBenchRedis,
} from './lib/redis-server.js'
import { startRoundTripCounter } from './lib/round-trips.js'
import { defineScenario, progress, ratioTarget, type Target } from './lib/scenario.js'

/** Client keys per contender; decisions walk them round robin, so every one is allowed. */
const KEYS = 10_000
/** The generous limit of the throughput runs: never reached, so every decision is an allow. */
const LIMIT = 1_000_000
const HOUR_MS = 3_600_000
const SERIAL_BATCH = 200
const IN_FLIGHT = 100
const PARALLEL_BATCH = 2_000
/** Decisions per timed call for in-process limiters (and cachekit's deny cache). */
const MEMORY_BATCH = 1_000
/** Blocked keys in the blocked-key runs. */
const BLOCKED_KEYS = 1_000
/** Decisions per round-trip count; the table shows the average per decision. */
const COUNTED = 100

const FULL: MeasureOptions = { time: 150, warmupTime: 40, rounds: 6, iterations: 4 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1, iterations: 4 }

const CK = 'cachekit'
const CK2 = 'cachekit, 2 policies'
const RLF = 'rate-limiter-flexible RateLimiterRedis'
const RLF2 = 'rate-limiter-flexible RateLimiterUnion of 2 RateLimiterRedis'
const ERL_STORE = 'rate-limit-redis RedisStore.increment'
const ERL_MW = 'express-rate-limit + rate-limit-redis (middleware)'
const FLOOR = 'node-redis INCR (floor, no decision)'
const CK_MEM = 'cachekit (memory)'
const RLF_MEM = 'rate-limiter-flexible RateLimiterMemory'
const ERL_MEM = 'express-rate-limit MemoryStore.increment'
const CK_BLOCKED = 'cachekit on Redis, blocked key (deny cache)'
const RLF_BLOCKED = 'rate-limiter-flexible RateLimiterRedis, blocked key (inMemoryBlockOnConsumed)'

type Mode = 'serial' | 'parallel'

interface Contender {
  readonly name: string
  readonly note: string
  /** The cachekit row this one is compared with. */
  readonly versus: string
  readonly modes: readonly Mode[]
  /** Decides for client `i`; resolves to whether the request was allowed. */
  decide(i: number): Promise<boolean>
  /** What every decision of the timed runs must answer (allowed, or refused for blocked keys). */
  readonly expect: boolean
}

interface Stack {
  readonly contenders: Contender[]
  close(): Promise<void>
}

export default defineScenario({
  title: '7. Rate limiting: decisions per second and Redis round trips per decision',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const counted = await countRoundTrips(server)
  const stack = await makeContenders(server.url)
  const wrong = { count: 0 }
  try {
    for (const c of stack.contenders) {
      for (const i of [0, 1, KEYS - 1]) {
        const got = await c.decide(i)
        if (got !== c.expect) throw new Error(`${c.name} answered allowed=${got} for client ${i}`)
      }
    }
    const tasks: OpTask[] = []
    for (const c of stack.contenders) for (const mode of c.modes) tasks.push(task(c, mode, wrong))
    const options = quick ? QUICK : FULL
    progress(`${tasks.length} tasks × ${options.rounds} rounds`)
    const results = await measure(tasks, options)
    if (wrong.count !== 0) throw new Error(`${wrong.count} decisions were not what the run expects`)

    const at = (name: string, mode: Mode): Measured | undefined => results.get(`${name} ${mode}`)
    const cell = (name: string, mode: Mode) => {
      const m = at(name, mode)
      return m ? `${ops(m.opsPerSec)} ${percent(m.spread)}` : 'n/a'
    }
    const vs = (c: Contender, mode: Mode) => {
      const mine = at(c.versus, mode)
      const theirs = at(c.name, mode)
      return mine && theirs ? pairedRatio(mine, theirs) : Number.NaN
    }
    const byName = new Map(stack.contenders.map((c) => [c.name, c]))
    const best = (mine: string, theirs: string, mode: Mode) =>
      (at(mine, mode)?.opsPerSec ?? Number.NaN) / (at(theirs, mode)?.opsPerSec ?? Number.NaN)
    const redisRows = [CK, CK2, RLF, RLF2, ERL_STORE, ERL_MW, FLOOR].map((name) => {
      const c = byName.get(name)!
      const trips = counted.throughput.get(name)
      return [
        name,
        cell(name, 'serial'),
        ratio(vs(c, 'serial')),
        cell(name, 'parallel'),
        ratio(vs(c, 'parallel')),
        trips ? trips.roundTrips.toFixed(2) : 'n/a',
        trips ? describeCommands(trips.commands) : 'n/a',
        trips ? `${trips.usec.toFixed(1)} µs` : 'n/a',
      ]
    })
    const memoryRows = [CK_MEM, RLF_MEM, ERL_MEM, CK_BLOCKED, RLF_BLOCKED].map((name) => {
      const c = byName.get(name)!
      return [name, cell(name, 'serial'), name === c.versus ? '1.00x' : ratio(vs(c, 'serial'))]
    })
    const caseRows = counted.cases.map((k) => [
      k.contender,
      k.case,
      k.roundTrips.toFixed(2),
      describeCommands(k.commands),
      k.answer,
    ])

    const ckCase = (id: string) => counted.cases.find((k) => k.id === id)!
    const tripsTarget = (id: string, name: string, goal: number): Target => {
      const k = ckCase(id)
      return {
        name,
        goal: `${goal} round trip${goal === 1 ? '' : 's'} per decision`,
        measured: `${k.roundTrips.toFixed(2)} (${describeCommands(k.commands)})`,
        met: Math.abs(k.roundTrips - goal) < 1e-9,
      }
    }
    const targets: Target[] = [
      tripsTarget('ck-one', 'cachekit round trips per decision, 1 policy', 1),
      tripsTarget('ck-multi', "cachekit round trips per decision, 2 policies ['10/s', '1000/day']", 1),
      tripsTarget('ck-block', 'cachekit round trips, the refusal that starts a block (blockFor)', 1),
      tripsTarget('ck-blocked-nocache', 'cachekit round trips, blocked key, deny cache off', 1),
      tripsTarget('ck-blocked', 'cachekit round trips, blocked key, deny cache on', 0),
      ratioTarget(
        'cachekit decisions/s ÷ rate-limiter-flexible RateLimiterRedis, 100 in flight',
        vs(byName.get(RLF)!, 'parallel'),
        '>=',
        1.3,
      ),
    ]

    const body = [
      `One \`redis-server\` ${server.version} started for this scenario on a free loopback port (no persistence), shared by every contender, each on its own node-redis connection and its own keys. Every limiter allows ${LIMIT.toLocaleString('en-US')} requests per hour per client, so every timed decision is an allow (checked: a refusal, or a cachekit decision taken by its failure policy, fails the run); ${KEYS.toLocaleString('en-US')} client keys, walked round robin. Client versions: redis (node-redis) ${version('redis')}, rate-limiter-flexible ${version('rate-limiter-flexible')}, express-rate-limit ${version('express-rate-limit')}, rate-limit-redis ${version('rate-limit-redis')}.`,
      `"1 at a time": ${SERIAL_BATCH} awaited decisions in a row per timed call. "100 in flight": ${IN_FLIGHT} callers each awaiting its own decisions in a loop over the contender's one connection, ${PARALLEL_BATCH.toLocaleString('en-US')} decisions per timed call. In-process rows: ${MEMORY_BATCH.toLocaleString('en-US')} awaited decisions per timed call. decisions/s is ${roundsNote(options)}. "cachekit ÷ row" is the median of per-round ratios of the matching cachekit row (1 policy, 2 policies, memory, or blocked key) to the row; the targets use it.`,
      `Round trips: each contender, on its own connection through a loopback proxy that counts every time the client starts sending after the server has answered, makes decisions one at a time on the otherwise idle server; the columns are averages over ${COUNTED} decisions (on ${COUNTED} different keys). "commands" is the INFO commandstats delta over the same decisions, per decision: it includes the commands a script runs inside the server (one EVALSHA that runs TIME, GET and SET is one round trip), and a pipelined MULTI … EXEC is one round trip for several commands. Commands sent together before any reply (RateLimiterUnion's two EVALs, issued in parallel) are one round trip too: the network sees one turn, the server runs both. "Redis CPU / decision" is the server's own time for those commands (INFO commandstats \`usec\` of the script or transaction, nested commands included), from the same decisions: with 100 in flight the single-threaded server, not the client, sets the pace.`,
      '',
      '### Redis: decisions per second',
      '',
      table(
        [
          'Contender',
          '1 at a time',
          'cachekit ÷ row',
          '100 in flight',
          'cachekit ÷ row',
          'round trips / decision',
          'commands / decision',
          'Redis CPU / decision',
        ],
        redisRows,
      ),
      '',
      '### In process, and blocked keys',
      '',
      `Decisions answered without Redis. The blocked-key rows: ${BLOCKED_KEYS.toLocaleString('en-US')} keys blocked beforehand (limit 1 per hour, then blocked for an hour), each decision a refusal (checked); cachekit answers them from its deny cache, rate-limiter-flexible from its \`inMemoryBlockOnConsumed\` block list. Both are compared with "cachekit on Redis, blocked key".`,
      '',
      table(['Contender', 'decisions/s, 1 at a time', 'cachekit ÷ row'], memoryRows),
      '',
      '### Round trips per decision, case by case',
      '',
      table(['Contender', 'Case', 'round trips / decision', 'commands / decision', 'answer'], caseRows),
      '',
      'Contenders:',
      '',
      ...stack.contenders.map((c) => `- **${c.name}**: ${c.note}`),
      '',
      `Cross-check of the throughput target: fastest round against fastest round, cachekit ÷ RateLimiterRedis is ${ratio(best(CK, RLF, 'parallel'))} with 100 in flight and ${ratio(best(CK, RLF, 'serial'))} one at a time; the median of per-round ratios (the target's figure) is ${ratio(vs(byName.get(RLF)!, 'parallel'))} and ${ratio(vs(byName.get(RLF)!, 'serial'))}. When the two disagree, the rounds were disturbed by other load (see the load average above) and neither figure is firm.`,
      '',
      `cachekit: 1 round trip per decision ${met(targets.slice(0, 4).every((t) => t.met))} (1 policy, 2 policies, the refusal that starts a block, a blocked key without deny cache); blocked key with deny cache ${met(targets[4]!.met)} at 0 round trips; ÷ rate-limiter-flexible on Redis, 100 in flight: ${targets[5]!.measured} ${met(targets[5]!.met)}.`,
    ].join('\n')
    return { body, targets }
  } finally {
    await stack.close()
  }
}

function task(c: Contender, mode: Mode, wrong: { count: number }): OpTask {
  const name = `${c.name} ${mode}`
  const check = (allowed: boolean) => {
    if (allowed !== c.expect) wrong.count++
  }
  if (mode === 'parallel') {
    const next = windows(KEYS, PARALLEL_BATCH)
    return {
      name,
      async: true,
      ops: PARALLEL_BATCH,
      fn: () => inFlight(IN_FLIGHT, next(), PARALLEL_BATCH, async (i) => check(await c.decide(i))),
    }
  }
  const batch = c.modes.length === 1 ? MEMORY_BATCH : SERIAL_BATCH
  const next = windows(KEYS, batch)
  return {
    name,
    async: true,
    ops: batch,
    fn: async () => {
      const start = next()
      for (let i = start; i < start + batch; i++) check(await c.decide(i))
    },
  }
}

const allowedOf = (result: RateLimitResult) => result.allowed && result.degraded === undefined
const refusedOf = (result: RateLimitResult) => !result.allowed && result.degraded === undefined

/** rate-limiter-flexible rejects a refused consume with a RateLimiterRes (not an Error). */
async function rlfAllowed(consume: Promise<unknown>): Promise<boolean> {
  try {
    await consume
    return true
  } catch (error) {
    if (error instanceof Error) throw error
    return false
  }
}

/** express-rate-limit's middleware driven with the least of a request and response it reads. */
function middlewareCaller(middleware: ReturnType<typeof rateLimit>) {
  let refused = 0
  const response = {
    headersSent: false,
    setHeader() {},
    append() {},
    status() {
      return this
    },
    send() {
      refused++
    },
  }
  const call = middleware as unknown as (
    request: object,
    response: object,
    next: (error?: unknown) => void,
  ) => Promise<void>
  return async (key: string): Promise<boolean> => {
    const before = refused
    const request = { ip: '127.0.0.1', originalUrl: '/api', method: 'GET', headers: {}, key }
    await new Promise<void>((resolve, reject) => {
      call(request, response, (error?: unknown) => (error ? reject(error) : resolve())).then(() => {
        if (refused !== before) resolve()
      }, reject)
    })
    return refused === before
  }
}

async function makeContenders(url: string): Promise<Stack> {
  const clients = generate(KEYS, (i) => `client:${100_000 + i}`)
  const blocked = generate(BLOCKED_KEYS, (i) => `abuser:${i}`)
  const closers: (() => Promise<unknown>)[] = []
  const connect = async () => {
    const client = createClient({ url })
    await client.connect()
    closers.push(async () => client.destroy())
    return client
  }

  const store = redisStore({ url })
  closers.push(() => store.close())
  const limiter = createRateLimiter({
    store,
    prefix: 'ck',
    rules: { api: `${LIMIT}/hour`, multi: [`${LIMIT}/hour`, `${LIMIT * 10}/day`] },
  })
  const blockStore = redisStore({ url })
  closers.push(() => blockStore.close())
  const blocker = createRateLimiter({
    store: blockStore,
    prefix: 'ckb',
    rules: { abuse: { limit: 1, window: '1h', blockFor: '1h' } },
  })
  for (const key of blocked) {
    await blocker.consume('abuse', key)
    if (!refusedOf(await blocker.consume('abuse', key))) throw new Error('cachekit did not block')
  }
  const memoryLimiter = createRateLimiter({ rules: { api: `${LIMIT}/hour` } })

  const rlfClient = await connect()
  const rlf = new RateLimiterRedis({
    storeClient: rlfClient,
    useRedisPackage: true,
    keyPrefix: 'rlf',
    points: LIMIT,
    duration: HOUR_MS / 1000,
  })
  const union = new RateLimiterUnion(
    new RateLimiterRedis({
      storeClient: rlfClient,
      useRedisPackage: true,
      keyPrefix: 'rlfh',
      points: LIMIT,
      duration: 3600,
    }),
    new RateLimiterRedis({
      storeClient: rlfClient,
      useRedisPackage: true,
      keyPrefix: 'rlfd',
      points: LIMIT * 10,
      duration: 86_400,
    }),
  )
  const rlfBlocker = new RateLimiterRedis({
    storeClient: rlfClient,
    useRedisPackage: true,
    keyPrefix: 'rlfb',
    points: 1,
    duration: 3600,
    blockDuration: 3600,
    inMemoryBlockOnConsumed: 2,
    inMemoryBlockDuration: 3600,
  })
  for (const key of blocked) {
    await rlfAllowed(rlfBlocker.consume(key))
    if (await rlfAllowed(rlfBlocker.consume(key))) throw new Error('rate-limiter-flexible did not block')
  }
  const rlfMemory = new RateLimiterMemory({ keyPrefix: 'rlfm', points: LIMIT, duration: 3600 })

  const erlClient = await connect()
  const sendCommand = (...args: string[]) => erlClient.sendCommand(args) as Promise<RedisReply>
  const erlStore = new ErlRedisStore({ sendCommand, prefix: 'erl:' })
  await erlStore.init({ windowMs: HOUR_MS } as Parameters<ErlRedisStore['init']>[0])
  const mwClient = await connect()
  const mwStore = new ErlRedisStore({
    sendCommand: (...args: string[]) => mwClient.sendCommand(args) as Promise<RedisReply>,
    prefix: 'erlmw:',
  })
  const middleware = rateLimit({
    windowMs: HOUR_MS,
    limit: LIMIT,
    store: mwStore,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    validate: false,
    keyGenerator: (request) => (request as unknown as { key: string }).key,
  })
  const callMiddleware = middlewareCaller(middleware)
  const erlMemory = new ErlMemoryStore()
  erlMemory.init({ windowMs: HOUR_MS } as Parameters<ErlMemoryStore['init']>[0])
  closers.push(async () => erlMemory.shutdown())

  const floorClient = await connect()
  const both: readonly Mode[] = ['serial', 'parallel']
  const serial: readonly Mode[] = ['serial']
  const contenders: Contender[] = [
    {
      name: CK,
      versus: CK,
      modes: both,
      expect: true,
      note: `\`createRateLimiter({ store: redisStore({ url }), rules: { api: '${LIMIT}/hour' } })\`, \`limiter.consume('api', key)\`: GCRA (the default) in one EVALSHA that reads the server's clock; the store's defaults (its deadline and circuit breaker), the limiter's (500 ms decision timeout, failure policy \`'local'\`, deny cache on).`,
      decide: async (i) => allowedOf(await limiter.consume('api', clients[i]!)),
    },
    {
      name: CK2,
      versus: CK2,
      modes: both,
      expect: true,
      note: `the same limiter, scope \`multi: ['${LIMIT}/hour', '${LIMIT * 10}/day']\`: both policies decided atomically in one script (nothing spent unless both pass).`,
      decide: async (i) => allowedOf(await limiter.consume('multi', clients[i]!)),
    },
    {
      name: RLF,
      versus: CK,
      modes: both,
      expect: true,
      note: `\`new RateLimiterRedis({ storeClient: createClient({ url }), useRedisPackage: true, points: ${LIMIT}, duration: 3600 })\`, \`rl.consume(key)\`: fixed window, one EVAL of its INCRBY/PTTL script (the script's text sent with every call: node-redis has no EVALSHA path there).`,
      decide: (i) => rlfAllowed(rlf.consume(clients[i]!)),
    },
    {
      name: RLF2,
      versus: CK2,
      modes: both,
      expect: true,
      note: `\`new RateLimiterUnion(hourly, daily)\` of two RateLimiterRedis on the same client (${LIMIT}/hour and ${LIMIT * 10}/day): its answer to several policies, one EVAL each, in parallel, and not atomic (a refusal by one still spends the other).`,
      decide: (i) => rlfAllowed(union.consume(clients[i]!)),
    },
    {
      name: ERL_STORE,
      versus: CK,
      modes: both,
      expect: true,
      note: `\`new RedisStore({ sendCommand: (...args) => client.sendCommand(args) })\` from rate-limit-redis (fixed window, windowMs 1 h), its \`increment(key)\` called directly (one EVALSHA), allowed when \`totalHits <= ${LIMIT}\`: the store alone, no middleware.`,
      decide: async (i) => (await erlStore.increment(clients[i]!)).totalHits <= LIMIT,
    },
    {
      name: ERL_MW,
      versus: CK,
      modes: both,
      expect: true,
      note: `\`rateLimit({ windowMs: 1 h, limit: ${LIMIT}, store: new RedisStore(...), standardHeaders: 'draft-8', legacyHeaders: false, validate: false, keyGenerator })\` from express-rate-limit, the middleware itself called with a minimal fake request and response (no HTTP server; \`setHeader\` and \`append\` are no-ops): what the middleware adds on top of the store.`,
      decide: (i) => callMiddleware(clients[i]!),
    },
    {
      name: FLOOR,
      versus: CK,
      modes: both,
      expect: true,
      note: '`client.incr(key)` on a plain node-redis client: one command, no script, no expiry, no decision. The floor of anything that counts in Redis.',
      decide: async (i) => (await floorClient.incr(`floor:${clients[i]!}`)) <= LIMIT,
    },
    {
      name: CK_MEM,
      versus: CK_MEM,
      modes: serial,
      expect: true,
      note: `\`createRateLimiter({ rules: { api: '${LIMIT}/hour' } })\` with no store: GCRA in a private in-process map.`,
      decide: async (i) => allowedOf(await memoryLimiter.consume('api', clients[i]!)),
    },
    {
      name: RLF_MEM,
      versus: CK_MEM,
      modes: serial,
      expect: true,
      note: `\`new RateLimiterMemory({ points: ${LIMIT}, duration: 3600 })\`, \`rl.consume(key)\`.`,
      decide: (i) => rlfAllowed(rlfMemory.consume(clients[i]!)),
    },
    {
      name: ERL_MEM,
      versus: CK_MEM,
      modes: serial,
      expect: true,
      note: "express-rate-limit's default `MemoryStore`, `increment(key)` called directly.",
      decide: async (i) => (await erlMemory.increment(clients[i]!)).totalHits <= LIMIT,
    },
    {
      name: CK_BLOCKED,
      versus: CK_BLOCKED,
      modes: serial,
      expect: false,
      note: "`createRateLimiter({ store: redisStore({ url }), rules: { abuse: { limit: 1, window: '1h', blockFor: '1h' } } })`; every timed decision is on a key blocked beforehand, answered by the deny cache.",
      decide: async (i) => !refusedOf(await blocker.consume('abuse', blocked[i % BLOCKED_KEYS]!)),
    },
    {
      name: RLF_BLOCKED,
      versus: CK_BLOCKED,
      modes: serial,
      expect: false,
      note: '`new RateLimiterRedis({ ..., points: 1, duration: 3600, blockDuration: 3600, inMemoryBlockOnConsumed: 2, inMemoryBlockDuration: 3600 })`: keys blocked beforehand, refused from its in-process block list.',
      decide: (i) => rlfAllowed(rlfBlocker.consume(blocked[i % BLOCKED_KEYS]!)),
    },
  ]
  return {
    contenders,
    close: async () => {
      for (const close of closers.reverse()) await close().catch(() => {})
    },
  }
}

interface CountedCase {
  readonly id: string
  readonly contender: string
  readonly case: string
  readonly roundTrips: number
  /** Per decision. */
  readonly commands: Map<string, number>
  readonly answer: string
  /** Server time per decision, µs. */
  readonly usec: number
}

interface Counted {
  readonly cases: CountedCase[]
  /** The plain allowed decision of each throughput row, by row name. */
  readonly throughput: Map<string, Trips>
}

interface Trips {
  readonly roundTrips: number
  readonly commands: Map<string, number>
  readonly usec: number
}

/**
 * Every contender again, on its own connections through a round-trip counting proxy, each case
 * counted over {@link COUNTED} decisions on fresh keys after an untimed setup.
 */
async function countRoundTrips(server: BenchRedis): Promise<Counted> {
  const proxy = await startRoundTripCounter(server.port)
  const closers: (() => Promise<unknown>)[] = []
  const cases: CountedCase[] = []
  const throughput = new Map<string, Trips>()
  try {
    const url = proxy.url
    const connect = async () => {
      const client = createClient({ url })
      await client.connect()
      closers.push(async () => client.destroy())
      return client
    }
    const ckLimiter = async (denyCache: boolean) => {
      const store = redisStore({ url })
      closers.push(() => store.close())
      const limiter = createRateLimiter({
        store,
        prefix: `count${denyCache ? '' : 'nd'}`,
        denyCache,
        rules: {
          api: `${LIMIT}/hour`,
          multi: ['10/s', '1000/day'],
          abuse: { limit: 1, window: '1h', blockFor: '1h' },
        },
      })
      await limiter.consume('api', 'warmup')
      return limiter
    }
    const ck = await ckLimiter(true)
    const ckNoDeny = await ckLimiter(false)
    const rlfClient = await connect()
    const rlfOptions = { storeClient: rlfClient, useRedisPackage: true }
    const rlf = new RateLimiterRedis({ ...rlfOptions, keyPrefix: 'crlf', points: LIMIT, duration: 3600 })
    const union = new RateLimiterUnion(
      new RateLimiterRedis({ ...rlfOptions, keyPrefix: 'crlf10s', points: 10, duration: 1 }),
      new RateLimiterRedis({ ...rlfOptions, keyPrefix: 'crlfday', points: 1000, duration: 86_400 }),
    )
    const rlfBlock = new RateLimiterRedis({
      ...rlfOptions,
      keyPrefix: 'crlfb',
      points: 1,
      duration: 3600,
      blockDuration: 3600,
    })
    const rlfMemBlock = new RateLimiterRedis({
      ...rlfOptions,
      keyPrefix: 'crlfmb',
      points: 1,
      duration: 3600,
      blockDuration: 3600,
      inMemoryBlockOnConsumed: 2,
      inMemoryBlockDuration: 3600,
    })
    const erlClient = await connect()
    const erlStore = new ErlRedisStore({
      sendCommand: (...args: string[]) => erlClient.sendCommand(args) as Promise<RedisReply>,
      prefix: 'cerl:',
    })
    await erlStore.init({ windowMs: HOUR_MS } as Parameters<ErlRedisStore['init']>[0])
    const mwClient = await connect()
    const callMiddleware = middlewareCaller(
      rateLimit({
        windowMs: HOUR_MS,
        limit: LIMIT,
        store: new ErlRedisStore({
          sendCommand: (...args: string[]) => mwClient.sendCommand(args) as Promise<RedisReply>,
          prefix: 'cerlmw:',
        }),
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        validate: false,
        keyGenerator: (request) => (request as unknown as { key: string }).key,
      }),
    )
    const floorClient = await connect()
    await rlfAllowed(rlf.consume('warmup'))
    await erlStore.increment('warmup')
    await callMiddleware('warmup')

    const count = async (
      id: string,
      contender: string,
      label: string,
      decide: (key: string) => Promise<boolean>,
      setup?: (key: string) => Promise<unknown>,
    ) => {
      const keys = generate(COUNTED, (i) => `${id}:${i}`)
      if (setup) for (const key of keys) await setup(key)
      const answers = new Set<boolean>()
      const beforeUsec = await commandUsec(server.port)
      const before = await commandCounts(server.port)
      const turns = proxy.turns()
      for (const key of keys) answers.add(await decide(key))
      const trips = (proxy.turns() - turns) / COUNTED
      const delta = commandDelta(before, await commandCounts(server.port))
      const afterUsec = await commandUsec(server.port)
      const usec = serverUsec(beforeUsec, afterUsec) / COUNTED
      const commands = new Map([...delta].map(([name, n]) => [name, round(n / COUNTED)] as const))
      const answer = [...answers].map((a) => (a ? 'allowed' : 'refused')).join(' and ')
      cases.push({ id, contender, case: label, roundTrips: trips, commands, answer, usec })
      return { roundTrips: trips, commands, usec }
    }
    const consumeAllowed = (limiter: RateLimiter, scope: string) => async (key: string) =>
      allowedOf(await limiter.consume(scope, key))
    const consumeRefused = (limiter: RateLimiter, scope: string) => async (key: string) =>
      !refusedOf(await limiter.consume(scope, key))

    throughput.set(CK, await count('ck-one', CK, `1 policy ('${LIMIT}/hour')`, consumeAllowed(ck, 'api')))
    const ckMulti = await count(
      'ck-multi',
      CK,
      "2 policies ['10/s', '1000/day'], one script",
      consumeAllowed(ck, 'multi'),
    )
    throughput.set(CK2, ckMulti)
    await count(
      'ck-block',
      CK,
      "the refusal that starts a block ({ limit: 1, window: '1h', blockFor: '1h' }, 2nd request)",
      consumeRefused(ck, 'abuse'),
      (key) => ck.consume('abuse', key),
    )
    await count(
      'ck-blocked-nocache',
      CK,
      'a blocked key, deny cache off (`denyCache: false`)',
      consumeRefused(ckNoDeny, 'abuse'),
      async (key) => {
        await ckNoDeny.consume('abuse', key)
        await ckNoDeny.consume('abuse', key)
      },
    )
    await count(
      'ck-blocked',
      CK,
      'a blocked key, deny cache on (the default)',
      consumeRefused(ck, 'abuse'),
      async (key) => {
        await ck.consume('abuse', key)
        await ck.consume('abuse', key)
      },
    )
    throughput.set(
      RLF,
      await count('rlf-one', RLF, `1 limiter (${LIMIT} per hour)`, (key) => rlfAllowed(rlf.consume(key))),
    )
    throughput.set(
      RLF2,
      await count(
        'rlf-union',
        'rate-limiter-flexible RateLimiterUnion',
        '2 limiters (10/s, 1000/day)',
        (key) => rlfAllowed(union.consume(key)),
      ),
    )
    await count(
      'rlf-block',
      RLF,
      'the refusal that starts a block (points 1, blockDuration 1 h, 2nd request)',
      async (key) => rlfAllowed(rlfBlock.consume(key)),
      (key) => rlfAllowed(rlfBlock.consume(key)),
    )
    await count(
      'rlf-blocked',
      RLF,
      'a blocked key, no in-memory block',
      async (key) => rlfAllowed(rlfBlock.consume(key)),
      async (key) => {
        await rlfAllowed(rlfBlock.consume(key))
        await rlfAllowed(rlfBlock.consume(key))
      },
    )
    await count(
      'rlf-blocked-mem',
      RLF,
      'a blocked key, `inMemoryBlockOnConsumed: 2`',
      async (key) => rlfAllowed(rlfMemBlock.consume(key)),
      async (key) => {
        await rlfAllowed(rlfMemBlock.consume(key))
        await rlfAllowed(rlfMemBlock.consume(key))
      },
    )
    throughput.set(
      ERL_STORE,
      await count(
        'erl-store',
        ERL_STORE,
        '1 window',
        async (key) => (await erlStore.increment(key)).totalHits <= LIMIT,
      ),
    )
    throughput.set(ERL_MW, await count('erl-mw', ERL_MW, '1 window', callMiddleware))
    throughput.set(
      FLOOR,
      await count(
        'floor',
        FLOOR,
        'one INCR',
        async (key) => (await floorClient.incr(`floor:${key}`)) <= LIMIT,
      ),
    )
    return { cases, throughput }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
    await proxy.close()
  }
}

/** Microseconds the server spent per command name, from INFO commandstats. */
async function commandUsec(port: number): Promise<Map<string, number>> {
  const stats = await command(port, 'INFO commandstats')
  const out = new Map<string, number>()
  for (const match of stats.matchAll(/^cmdstat_([\w|-]+):calls=\d+,usec=(\d+)/gm)) {
    out.set(match[1]!, Number(match[2]))
  }
  return out
}

/** Scripts and EXEC include the time of the commands they run, which are counted on their own too. */
const ENTRY = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'multi', 'exec'])

function serverUsec(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  const delta = [...after]
    .filter(([name]) => name !== 'info')
    .map(([name, usec]) => [name, usec - (before.get(name) ?? 0)] as const)
    .filter(([, usec]) => usec > 0)
  const entries = delta.filter(([name]) => ENTRY.has(name))
  return (entries.length > 0 ? entries : delta).reduce((sum, [, usec]) => sum + usec, 0)
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}

function version(name: string): string {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string
    }
    return pkg.version
  } catch {
    return 'unknown'
  }
}
