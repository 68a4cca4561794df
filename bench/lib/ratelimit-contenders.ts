/**
 * The contenders of the rate-limit scenario (bench/ratelimit.ts): cachekit's limiter on Redis and in
 * process, rate-limiter-flexible, express-rate-limit with rate-limit-redis, and a plain INCR floor,
 * each on its own node-redis connection and its own keys.
 */
import { MemoryStore as ErlMemoryStore, rateLimit } from 'express-rate-limit'
import { RedisStore as ErlRedisStore, type RedisReply } from 'rate-limit-redis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible'
import { createClient } from 'redis'
import { createRateLimiter, type RateLimitResult } from './cachekit-ratelimit.js'
import { redisStore } from './cachekit-redis.js'
import { generate, PREFIX, STORE_TIMEOUT_MS } from './data.js'

/** Client keys: the largest workload's; decisions take them in a random order, so every one is allowed. */
export const KEYS = 100_000
/** The generous limit of the throughput runs: never reached, so every decision is an allow. */
export const LIMIT = 1_000_000
export const HOUR_MS = 3_600_000
/** Blocked keys in the blocked-key runs. */
export const BLOCKED_KEYS = 1_000
/**
 * The limiter's decision timeout in the scenario: its 500 ms default, like the store's deadline
 * (see data.ts STORE_TIMEOUT_MS), trips on this oversubscribed machine, and a decision taken by the
 * failure policy is not a Redis decision.
 */
export const DECISION_TIMEOUT = '6s'

export const CK = 'cachekit'
export const CK2 = 'cachekit, 2 policies'
export const RLF = 'rate-limiter-flexible RateLimiterRedis'
export const RLF2 = 'rate-limiter-flexible RateLimiterUnion of 2 RateLimiterRedis'
export const ERL_STORE = 'rate-limit-redis RedisStore.increment'
export const ERL_MW = 'express-rate-limit + rate-limit-redis (middleware)'
export const FLOOR = 'node-redis INCR (floor, no decision)'
export const CK_MEM = 'cachekit (memory)'
export const RLF_MEM = 'rate-limiter-flexible RateLimiterMemory'
export const ERL_MEM = 'express-rate-limit MemoryStore.increment'
export const CK_BLOCKED = 'cachekit on Redis, blocked key (deny cache)'
export const RLF_BLOCKED = 'rate-limiter-flexible RateLimiterRedis, blocked key (inMemoryBlockOnConsumed)'
/** The rows that decide on Redis, in table order. */
export const ON_REDIS = [CK, CK2, RLF, RLF2, ERL_STORE, ERL_MW, FLOOR] as const
export const IN_PROCESS = [CK_MEM, RLF_MEM, ERL_MEM, CK_BLOCKED, RLF_BLOCKED] as const

export type Mode = 'serial' | 'parallel'

export interface Contender {
  readonly name: string
  readonly note: string
  /** The cachekit row this one is compared with. */
  readonly versus: string
  /** Decides on Redis (measured 100 in flight too), or in process. */
  readonly redis: boolean
  /** Decides for client `i`; resolves to whether the request was allowed. */
  decide(i: number): Promise<boolean>
  /** What every decision of the timed runs must answer (allowed, or refused for blocked keys). */
  readonly expect: boolean
}

export interface Stack {
  readonly contenders: Contender[]
  close(): Promise<void>
}

export const allowedOf = (result: RateLimitResult) => result.allowed && result.degraded === undefined
export const refusedOf = (result: RateLimitResult) => !result.allowed && result.degraded === undefined

/** rate-limiter-flexible rejects a refused consume with a RateLimiterRes (not an Error). */
export async function rlfAllowed(consume: Promise<unknown>): Promise<boolean> {
  try {
    await consume
    return true
  } catch (error) {
    if (error instanceof Error) throw error
    return false
  }
}

/** express-rate-limit's middleware driven with the least of a request and response it reads. */
export function middlewareCaller(middleware: ReturnType<typeof rateLimit>) {
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

/**
 * Every contender on `url` (the bench server, or the counting proxy in front of it). `withBlocked`
 * blocks the blocked-key rows' keys first (a thousand decisions each), which only the timed run needs.
 */
export async function makeContenders(url: string, withBlocked = true): Promise<Stack> {
  const clients = generate(KEYS, (i) => `client:${100_000 + i}`)
  const blocked = generate(BLOCKED_KEYS, (i) => `abuser:${i}`)
  const closers: (() => Promise<unknown>)[] = []
  const connect = async () => {
    const client = createClient({ url })
    await client.connect()
    closers.push(async () => client.destroy())
    return client
  }

  const store = redisStore({ url, timeout: STORE_TIMEOUT_MS })
  closers.push(() => store.close())
  const limiter = createRateLimiter({
    store,
    prefix: PREFIX,
    timeout: DECISION_TIMEOUT,
    rules: { api: `${LIMIT}/hour`, multi: [`${LIMIT}/hour`, `${LIMIT * 10}/day`] },
  })
  const blockStore = redisStore({ url, timeout: STORE_TIMEOUT_MS })
  closers.push(() => blockStore.close())
  const blocker = createRateLimiter({
    store: blockStore,
    prefix: `${PREFIX}-blocked`,
    timeout: DECISION_TIMEOUT,
    rules: { abuse: { limit: 1, window: '1h', blockFor: '1h' } },
  })
  for (const key of withBlocked ? blocked : []) {
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
  for (const key of withBlocked ? blocked : []) {
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
  const contenders: Contender[] = [
    {
      name: CK,
      versus: CK,
      redis: true,
      expect: true,
      note: `\`createRateLimiter({ store: redisStore({ url, timeout: ${STORE_TIMEOUT_MS} }), prefix: '${PREFIX}', rules: { api: '${LIMIT}/hour' } })\`, \`limiter.consume('api', key)\`: GCRA (the default) in one EVALSHA that reads the server's clock; the store's defaults but a ${STORE_TIMEOUT_MS / 1000} s deadline (its 100 ms default trips on this oversubscribed machine), the limiter's (but a ${DECISION_TIMEOUT} decision timeout instead of 500 ms; failure policy \`'local'\`, deny cache on).`,
      decide: async (i) => allowedOf(await limiter.consume('api', clients[i]!)),
    },
    {
      name: CK2,
      versus: CK2,
      redis: true,
      expect: true,
      note: `the same limiter, scope \`multi: ['${LIMIT}/hour', '${LIMIT * 10}/day']\`: both policies decided atomically in one script (nothing spent unless both pass).`,
      decide: async (i) => allowedOf(await limiter.consume('multi', clients[i]!)),
    },
    {
      name: RLF,
      versus: CK,
      redis: true,
      expect: true,
      note: `\`new RateLimiterRedis({ storeClient: createClient({ url }), useRedisPackage: true, points: ${LIMIT}, duration: 3600 })\`, \`rl.consume(key)\`: fixed window, one EVAL of its INCRBY/PTTL script (the script's text sent with every call: node-redis has no EVALSHA path there).`,
      decide: (i) => rlfAllowed(rlf.consume(clients[i]!)),
    },
    {
      name: RLF2,
      versus: CK2,
      redis: true,
      expect: true,
      note: `\`new RateLimiterUnion(hourly, daily)\` of two RateLimiterRedis on the same client (${LIMIT}/hour and ${LIMIT * 10}/day): its answer to several policies, one EVAL each, in parallel, and not atomic (a refusal by one still spends the other).`,
      decide: (i) => rlfAllowed(union.consume(clients[i]!)),
    },
    {
      name: ERL_STORE,
      versus: CK,
      redis: true,
      expect: true,
      note: `\`new RedisStore({ sendCommand: (...args) => client.sendCommand(args) })\` from rate-limit-redis (fixed window, windowMs 1 h), its \`increment(key)\` called directly (one EVALSHA), allowed when \`totalHits <= ${LIMIT}\`: the store alone, no middleware.`,
      decide: async (i) => (await erlStore.increment(clients[i]!)).totalHits <= LIMIT,
    },
    {
      name: ERL_MW,
      versus: CK,
      redis: true,
      expect: true,
      note: `\`rateLimit({ windowMs: 1 h, limit: ${LIMIT}, store: new RedisStore(...), standardHeaders: 'draft-8', legacyHeaders: false, validate: false, keyGenerator })\` from express-rate-limit, the middleware itself called with a minimal fake request and response (no HTTP server; \`setHeader\` and \`append\` are no-ops): what the middleware adds on top of the store.`,
      decide: (i) => callMiddleware(clients[i]!),
    },
    {
      name: FLOOR,
      versus: CK,
      redis: true,
      expect: true,
      note: '`client.incr(key)` on a plain node-redis client: one command, no script, no expiry, no decision. The floor of anything that counts in Redis.',
      decide: async (i) => (await floorClient.incr(`floor:${clients[i]!}`)) <= LIMIT,
    },
    {
      name: CK_MEM,
      versus: CK_MEM,
      redis: false,
      expect: true,
      note: `\`createRateLimiter({ rules: { api: '${LIMIT}/hour' } })\` with no store: GCRA in a private in-process map.`,
      decide: async (i) => allowedOf(await memoryLimiter.consume('api', clients[i]!)),
    },
    {
      name: RLF_MEM,
      versus: CK_MEM,
      redis: false,
      expect: true,
      note: `\`new RateLimiterMemory({ points: ${LIMIT}, duration: 3600 })\`, \`rl.consume(key)\`.`,
      decide: (i) => rlfAllowed(rlfMemory.consume(clients[i]!)),
    },
    {
      name: ERL_MEM,
      versus: CK_MEM,
      redis: false,
      expect: true,
      note: "express-rate-limit's default `MemoryStore`, `increment(key)` called directly.",
      decide: async (i) => (await erlMemory.increment(clients[i]!)).totalHits <= LIMIT,
    },
    {
      name: CK_BLOCKED,
      versus: CK_BLOCKED,
      redis: false,
      expect: false,
      note: `\`createRateLimiter({ store: redisStore({ url, timeout: ${STORE_TIMEOUT_MS} }), rules: { abuse: { limit: 1, window: '1h', blockFor: '1h' } } })\`; every timed decision is on a key blocked beforehand, answered by the deny cache.`,
      decide: async (i) => !refusedOf(await blocker.consume('abuse', blocked[i % BLOCKED_KEYS]!)),
    },
    {
      name: RLF_BLOCKED,
      versus: CK_BLOCKED,
      redis: false,
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
