/**
 * Builds everything the app holds open: the database, the cache (from the environment), and the
 * request-protection, session, lock, channel and geo components on one shared store. `close()`
 * ends them in the reverse order.
 */

import { join } from 'node:path'
import { type Cache, createCache, dummyStore, memoryStore } from 'cachekit'
import { describeAndCreate, type EnvCacheDescription } from 'cachekit/config'
import { geoIndex } from 'cachekit/geo'
import { createLocks } from 'cachekit/lock'
import { type Channel, channel } from 'cachekit/pubsub'
import { createLoginGuard, createOneTimeCodes, createRateLimiter } from 'cachekit/ratelimit'
import { redisOptionsFromEnv, redisStore } from 'cachekit/redis'
import { createSessions } from 'cachekit/session'
import type { AppConfig, ThrottleScope } from '../config.js'
import { migrate } from '../db/schema.js'
import { seed } from '../db/seed.js'
import { type Db, openDb } from '../db/sql.js'
import { type BalanceUpdate, cachedFinance } from './cached.js'
import { financeQueries } from './finance.js'

export async function createServices(config: AppConfig, log: (line: string) => void) {
  const db = await openDb({
    url: config.databaseUrl,
    file: join(config.dataDir, 'finance.db'),
    schema: config.databaseSchema,
  })
  const migrations = await migrate(db)
  if (migrations > 0) log(`database: ${migrations} migration(s) applied on ${db.description}`)
  if (await seed(db, config.dataSize, log)) log('demo data set loaded')

  let cache: Cache
  let description: EnvCacheDescription | { store: 'off' }
  if (config.cacheOff) {
    // CACHE=off: the same code paths, every read a miss, every write a no-op.
    cache = createCache({ store: dummyStore(), prefix: config.prefix })
    description = { store: 'off' }
  } else {
    const built = await describeAndCreate(config.env)
    cache = built.cache
    description = built.description
  }

  // One store for protection, sessions, locks, channels and geo: Redis when the cache is on Redis
  // (every process shares it), else memory (one process).
  const redisOptions = redisOptionsFromEnv(config.env)
  // Sessions, lockouts and locks are correctness, not speed: a longer deadline than the cache's
  // 100 ms default keeps a busy machine from failing a session save (the breaker still fails fast
  // on a dead Redis).
  const redis = redisOptions ? redisStore({ timeout: 500, ...redisOptions }) : undefined
  const shared = redis ?? memoryStore({ maxEntries: 100_000 })
  if (redis) await redis.ready()
  await cache
    .ready()
    .catch((error: unknown) => log(`cache not ready yet (serving from the database): ${String(error)}`))

  const sessionCache = createCache({ store: shared, prefix: `${config.prefix}:app` })
  const sessions = createSessions({ cache: sessionCache, secret: config.sessionSecret, ttl: '2h' })
  const limiter = createRateLimiter<ThrottleScope>({
    store: shared,
    rules: config.throttle,
    prefix: `${config.prefix}:rl`,
  })
  const guard = createLoginGuard({
    store: shared,
    failureLimit: 5,
    coolOff: '15m',
    lockBy: [['username', 'ip']],
    prefix: `${config.prefix}:axes`,
  })
  const pins = createOneTimeCodes({
    store: shared,
    secret: config.otpSecret,
    ttl: '5m',
    digits: 6,
    maxAttempts: 5,
    resendCooldown: '30s',
    purpose: 'login',
    prefix: `${config.prefix}:otp`,
  })
  const locks = createLocks({ store: shared, prefix: `${config.prefix}:` })

  // Live balances (seed 4): one durable channel per user; SSE clients resume with Last-Event-ID.
  const channels = new Map<number, Channel<BalanceUpdate>>()
  const balances = (userId: number) => {
    let ch = channels.get(userId)
    if (!ch) {
      ch = channel<BalanceUpdate>(`${config.prefix}:balances:${userId}`, {
        store: shared,
        durable: { maxLen: 100, retention: '1h' },
      })
      channels.set(userId, ch)
    }
    return ch
  }

  const queries = financeQueries(db)
  const finance = cachedFinance(cache, queries, async (userId, update) => {
    // Live updates are best effort: a write that committed must not fail because Redis is out.
    await balances(userId)
      .publish(update)
      .catch((error: unknown) => log(`live update for user ${userId} not sent: ${String(error)}`))
  })

  const merchants = geoIndex(`${config.prefix}:merchants`, { store: shared })
  await merchants.addMany(
    (await queries.merchants()).map((m) => [String(m.id), { lon: m.lon, lat: m.lat }] as const),
  )

  const closers: (() => Promise<void>)[] = []
  return {
    config,
    db: db as Db,
    sessionCache,
    /** Registers something to stop first on close (the admin page's sampler). */
    onClose(close: () => Promise<void>) {
      closers.push(close)
    },
    cache,
    cacheDescription: description,
    sessions,
    limiter,
    guard,
    pins,
    locks,
    balances,
    merchants,
    queries,
    finance,
    async close() {
      await Promise.allSettled(closers.map((close) => close()))
      await Promise.allSettled([limiter.close(), guard.close(), pins.close(), locks.close()])
      await Promise.allSettled([sessionCache.close(), cache.close()])
      await redis?.close()
      await db.close()
    },
  }
}

export type Services = Awaited<ReturnType<typeof createServices>>
