/**
 * Round trips, commands and server time per decision of the rate-limit scenario, counted through
 * a loopback proxy (lib/round-trips.ts) and INFO commandstats: case by case, one decision at a
 * time on the otherwise idle server, and with 100 decisions in flight (where batching could bring
 * requests per decision below 1).
 */
import { rateLimit } from 'express-rate-limit'
import { RedisStore as ErlRedisStore, type RedisReply } from 'rate-limit-redis'
import { RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible'
import { createClient } from 'redis'
import { createRateLimiter, type RateLimiter } from './cachekit-ratelimit.js'
import { redisStore } from './cachekit-redis.js'
import { generate, randomOrder, STORE_TIMEOUT_MS } from './data.js'
import { inFlight } from './measure.js'
import {
  allowedOf,
  CK,
  CK2,
  DECISION_TIMEOUT,
  ERL_MW,
  ERL_STORE,
  FLOOR,
  HOUR_MS,
  LIMIT,
  makeContenders,
  middlewareCaller,
  ON_REDIS,
  RLF,
  RLF2,
  refusedOf,
  rlfAllowed,
} from './ratelimit-contenders.js'
import { type BenchRedis, command, commandCounts, commandDelta } from './redis-server.js'
import { startRoundTripCounter } from './round-trips.js'

/** Decisions per round-trip count; the table shows the average per decision. */
export const COUNTED = 100

export interface CountedCase {
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

export interface Counted {
  readonly cases: CountedCase[]
  /** The plain allowed decision of each throughput row, by row name. */
  readonly throughput: Map<string, Trips>
}

export interface Trips {
  readonly roundTrips: number
  readonly commands: Map<string, number>
  readonly usec: number
}

/**
 * Every contender again, on its own connections through a round-trip counting proxy, each case
 * counted over {@link COUNTED} decisions on fresh keys after an untimed setup.
 */
export async function countRoundTrips(server: BenchRedis): Promise<Counted> {
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
      const store = redisStore({ url, timeout: STORE_TIMEOUT_MS })
      closers.push(() => store.close())
      const limiter = createRateLimiter({
        store,
        prefix: `count${denyCache ? '' : 'nd'}`,
        timeout: DECISION_TIMEOUT,
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

export interface Loaded {
  /** Commands sent per decision. */
  readonly requests: number
  /** Decisions that were not what the run expects (taken by a failure policy, say). */
  readonly wrong: number
}

/** Requests (commands sent) per decision with many decisions in flight, for each row on Redis. */
export async function countUnderLoad(
  server: BenchRedis,
  callers: number,
  decisions: number,
): Promise<Map<string, Loaded>> {
  const proxy = await startRoundTripCounter(server.port)
  const stack = await makeContenders(proxy.url, false)
  const out = new Map<string, Loaded>()
  try {
    const order = randomOrder(decisions, 7)
    for (const name of ON_REDIS) {
      const c = stack.contenders.find((contender) => contender.name === name)!
      if ((await c.decide(order[0]!)) !== c.expect) throw new Error(`${name}: unexpected answer`)
      const before = proxy.commands()
      let wrong = 0
      await inFlight(callers, 0, decisions, async (j) => {
        if ((await c.decide(order[j]!)) !== c.expect) wrong++
      })
      out.set(name, { requests: (proxy.commands() - before) / decisions, wrong })
    }
  } finally {
    await stack.close()
    await proxy.close()
  }
  return out
}
