/**
 * A profiling harness, not a scenario: runs one of cachekit's hot paths in a loop, configured as
 * the scenarios configure it (prefix, default TTL, random keys, 100,000 small objects), and writes
 * a CPU profile of the loop alone (the V8 profiler, as `node --cpu-prof` uses, started after the
 * setup). Usage:
 *
 *   npm run build
 *   CACHEKIT_BENCH_MODULE=$PWD/dist/index.js node --import tsx bench/profile/hot.ts \
 *     memory|redis-get|redis-set|ratelimit|raw-get|raw-set|rlf [seconds] [out.cpuprofile]
 *   node --import tsx bench/profile/top.ts out.cpuprofile
 *
 * Redis paths run against a throwaway server (lib/redis-server.ts), 100 calls in flight. `raw-get`,
 * `raw-set` (node-redis + JSON, the limit of the Redis scenario) and `rlf` (rate-limiter-flexible)
 * are the same loops on the peers, for comparison.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { createClient } from 'redis'
import { createCache, memoryStore } from '../lib/cachekit.js'
import { createRateLimiter } from '../lib/cachekit-ratelimit.js'
import { redisStore } from '../lib/cachekit-redis.js'
import {
  generate,
  makeValue,
  PREFIX,
  randomOrder,
  STORE_TIMEOUT_MS,
  TTL,
  TTL_MS,
  userKey,
} from '../lib/data.js'
import { inFlight } from '../lib/measure.js'
import { DECISION_TIMEOUT } from '../lib/ratelimit-contenders.js'
import { withBenchRedis } from '../lib/redis-server.js'

const [path = 'memory', seconds = '8', out = `${path}.cpuprofile`] = process.argv.slice(2)
const ENTRIES = 100_000
const keys = generate(ENTRIES, userKey)
/** `HOT_VALUE=doc` reads and writes ~1 KB documents (profileDocument) instead of small objects. */
const values: unknown[] = generate(ENTRIES, makeValue(process.env['HOT_VALUE'] === 'doc' ? 'doc' : 'small'))
const order = randomOrder(ENTRIES)
let until = 0
let calls = 0
const session = new Session()

/** Starts the clock and the profiler once the setup is done. */
async function start(): Promise<void> {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  until = performance.now() + Number(seconds) * 1000
}

async function stop(): Promise<void> {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(out, JSON.stringify(profile))
}

async function loop(call: (j: number) => Promise<unknown>, callers: number): Promise<void> {
  while (performance.now() < until) {
    for (let at = 0; at < ENTRIES && performance.now() < until; at += 2_000) {
      await inFlight(callers, at, 2_000, call)
      calls += 2_000
    }
  }
}

if (path === 'memory') {
  const cache = createCache({ store: memoryStore({ maxEntries: 2 * ENTRIES }), prefix: PREFIX, ttl: TTL })
  await cache.setMany(keys.map((k, i) => [k, values[i]] as const))
  await start()
  while (performance.now() < until) {
    for (let j = 0; j < ENTRIES; j++) await cache.get(keys[order[j]!]!)
    calls += ENTRIES
  }
  await stop()
} else {
  await withBenchRedis(async (server) => {
    if (path.startsWith('raw-') || path === 'rlf') {
      const client = createClient({ url: server.url, commandOptions: { timeout: 0 } })
      await client.connect()
      const raw = (key: string) => `${PREFIX}:${key}`
      if (path === 'rlf') {
        const rlf = new RateLimiterRedis({
          storeClient: client,
          useRedisPackage: true,
          points: 1_000_000,
          duration: 3600,
        })
        await start()
        await loop((j) => rlf.consume(keys[order[j % ENTRIES]!]!), 100)
      } else {
        for (const [i, key] of keys.entries())
          await client.set(raw(key), JSON.stringify(values[i]), { expiration: { type: 'PX', value: TTL_MS } })
        await start()
        if (path === 'raw-get')
          await loop(async (j) => JSON.parse((await client.get(raw(keys[order[j]!]!)))!), 100)
        else
          await loop(
            (j) =>
              client.set(raw(keys[order[j]!]!), JSON.stringify(values[order[j]!]), {
                expiration: { type: 'PX', value: TTL_MS },
              }),
            100,
          )
      }
      await stop()
      client.destroy()
      return
    }
    const store = redisStore({ url: server.url, timeout: STORE_TIMEOUT_MS })
    if (path === 'ratelimit') {
      const limiter = createRateLimiter({
        store,
        prefix: PREFIX,
        timeout: DECISION_TIMEOUT,
        rules: { api: '1000000/hour' },
      })
      await limiter.consume('api', 'warmup')
      await start()
      let degraded = 0
      await loop(async (j) => {
        if ((await limiter.consume('api', keys[order[j % ENTRIES]!]!)).degraded !== undefined) degraded++
      }, 100)
      process.stderr.write(`decisions taken by the failure policy: ${degraded}\n`)
    } else {
      const cache = createCache({ store, prefix: PREFIX, ttl: TTL })
      for (let at = 0; at < ENTRIES; at += 1000)
        await cache.setMany(keys.slice(at, at + 1000).map((k, i) => [k, values[at + i]] as const))
      await start()
      if (path === 'redis-get') await loop((j) => cache.get(keys[order[j]!]!), 100)
      else await loop((j) => cache.set(keys[order[j]!]!, values[order[j]!]), 100)
    }
    await stop()
    await store.close()
  })
}
process.stderr.write(`${path}: ${calls.toLocaleString('en-US')} calls in ${seconds} s\n`)
