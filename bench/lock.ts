/**
 * Scenario: distributed locks. Uncontended acquire + release (ops/s, one at a time and 50 callers on
 * 50 names) and Redis round trips per acquire + release, cachekit's locks (`cachekit/lock`) against
 * redis-semaphore's Mutex and redlock 5 (both on ioredis); then the handoff latency to a waiter on
 * another connection (release called → next holder has the lock): cachekit wakes it by a pub/sub
 * message, redis-semaphore polls every `retryInterval` (10 ms, its default), redlock retries every
 * `retryDelay` + up to `retryJitter` ms (its defaults, 200 + 100: what an application that does not
 * tune it gets; a row with redis-semaphore's 10 ms shows what tuning buys).
 * One throwaway `redis-server` over loopback; round trips counted by a loopback proxy outside any
 * timed code.
 */
import { Redis } from 'ioredis'
import { Mutex } from 'redis-semaphore'
import { createLocks, type Locks } from './lib/cachekit-lock.js'
import { type RedisStore, redisStore, script } from './lib/cachekit-redis.js'
import { met, ops, percent, ratio, table } from './lib/format.js'
import {
  inFlight,
  type MeasureOptions,
  measure,
  type OpTask,
  pairedRatio,
  roundsNote,
} from './lib/measure.js'
import { withBenchRedis } from './lib/redis-server.js'
import { Redlock } from './lib/redlock.js'
import { startRoundTripCounter } from './lib/round-trips.js'
import { defineScenario, progress, ratioTarget, type Target } from './lib/scenario.js'

const FULL: MeasureOptions = { time: 300, warmupTime: 60, rounds: 6, iterations: 4 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1, iterations: 4 }
const SERIAL_BATCH = 100
const CALLERS = 50
const PARALLEL_BATCH = 1000
const COUNTED = 100
const CK = 'cachekit'
const RS = 'redis-semaphore Mutex'
const RL = 'redlock 5, one client'
/** redlock's own defaults (its README example shows 200 + 200): what an untuned application runs. */
const REDLOCK_DEFAULTS = { retryDelay: 200, retryJitter: 100 }
/** redlock tuned to poll as often as redis-semaphore does by default. */
const REDLOCK_TUNED = { retryDelay: 10, retryJitter: 0 }
/** Handoffs measured for redlock with its defaults: each one waits for its ~200-300 ms poll. */
const REDLOCK_DEFAULT_HANDOFFS = 40
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One acquire + release of each contender on `name`. */
type Cycle = (name: string) => Promise<void>

function cachekitCycle(locks: Locks): Cycle {
  return async (name) => {
    const held = await locks.lock(name, { ttl: 10_000, wait: 0 })
    await held.release()
  }
}

function semaphoreCycle(client: Redis): Cycle {
  const mutexes = new Map<string, Mutex>()
  return async (name) => {
    let mutex = mutexes.get(name)
    // No refresh timer: cachekit's lock() does not extend by itself either.
    if (!mutex)
      mutexes.set(name, (mutex = new Mutex(client, name, { lockTimeout: 10_000, refreshInterval: 0 })))
    await mutex.acquire()
    await mutex.release()
  }
}

/** redlock with one ioredis client (its single-instance mode) and the given retry policy. */
function redlockOn(
  client: Redis,
  retry: { retryDelay: number; retryJitter: number },
  waitMs: number,
): Redlock {
  // retryCount covers the wait as a cachekit `wait` would: attempts every retryDelay until it ends.
  return new Redlock([client], { ...retry, retryCount: Math.ceil(waitMs / Math.max(1, retry.retryDelay)) })
}

function redlockCycle(client: Redis): Cycle {
  const redlock = redlockOn(client, REDLOCK_DEFAULTS, 0)
  return async (name) => {
    const held = await redlock.acquire([name], 10_000)
    await held.release()
  }
}

const NOOP = script('bench-noop', "return redis.call('PTTL', KEYS[1])")
const STORE_FLOOR = "floor: 2 scripts through cachekit's Redis store"
const IOREDIS_FLOOR = 'floor: 2 EVALSHA on ioredis'

/**
 * What two one-script round trips cost without any lock logic: through the store's script runner
 * (deadline, breaker, node-redis) and on a bare ioredis client. The gap between a lock and its
 * floor is the lock's own cost; the gap between the floors is the client's.
 */
function floors(store: RedisStore, client: Redis): Record<string, Cycle> {
  const runner = store.scriptRunner()
  return {
    [STORE_FLOOR]: async (name) => {
      await runner.run(NOOP, [name], [])
      await runner.run(NOOP, [name], [])
    },
    [IOREDIS_FLOOR]: async (name) => {
      await client.evalsha(NOOP.sha, 1, name).catch(() => client.eval(NOOP.source, 1, name))
      await client.evalsha(NOOP.sha, 1, name)
    },
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Handoffs: `hold` takes the lock, `wait` starts waiting, `hold` releases; the time from release to the waiter's grant. */
async function handoffs(
  count: number,
  take: (name: string) => Promise<() => Promise<void>>,
  other: (name: string) => Promise<() => Promise<void>>,
): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    const name = `handoff:${i}`
    const release = await take(name)
    let granted = 0
    const waiting = other(name).then((next) => {
      granted = performance.now()
      return next
    })
    await sleep(15)
    const released = performance.now()
    await release()
    await (await waiting)()
    out.push(granted - released)
  }
  return out
}

export default defineScenario({
  title: '11. Locks: uncontended acquire + release, round trips, handoff to a waiter',
  async run({ quick }) {
    const options = quick ? QUICK : FULL
    return withBenchRedis(async (server) => {
      const stores = [
        redisStore({ url: server.url, timeout: 1000 }),
        redisStore({ url: server.url, timeout: 1000 }),
      ]
      await Promise.all(stores.map((s) => s.ready()))
      const [locks, otherLocks] = stores.map((store) => createLocks({ store, prefix: 'bench:' })) as [
        Locks,
        Locks,
      ]
      const clients = [new Redis(server.url), new Redis(server.url)]
      try {
        const cycles: Record<string, Cycle> = {
          [CK]: cachekitCycle(locks),
          [RS]: semaphoreCycle(clients[0] as Redis),
          [RL]: redlockCycle(clients[0] as Redis),
          ...floors(stores[0] as RedisStore, clients[0] as Redis),
        }
        progress('uncontended acquire + release')
        let n = 0
        const tasks: OpTask[] = Object.entries(cycles).flatMap(([name, cycle]) => [
          {
            name: `${name} serial`,
            async: true,
            ops: SERIAL_BATCH,
            fn: async () => {
              for (let i = 0; i < SERIAL_BATCH; i++) await cycle('serial')
            },
          },
          {
            name: `${name} ${CALLERS} callers`,
            async: true,
            ops: PARALLEL_BATCH,
            fn: () =>
              inFlight(CALLERS, n, PARALLEL_BATCH, (i) => cycle(`p:${i % CALLERS}`)).then(
                () => (n += PARALLEL_BATCH),
              ),
          },
        ])
        const measured = await measure(tasks, options)

        progress('round trips')
        const trips = new Map<string, number>()
        const proxy = await startRoundTripCounter(server.port)
        const proxied = redisStore({ url: proxy.url, timeout: 1000 })
        await proxied.ready()
        const proxiedLocks = createLocks({ store: proxied, prefix: 'trips:' })
        const proxiedClient = new Redis(proxy.url)
        await proxiedClient.ping()
        const proxiedCycles: Record<string, Cycle> = {
          [CK]: cachekitCycle(proxiedLocks),
          [RS]: semaphoreCycle(proxiedClient),
          [RL]: redlockCycle(proxiedClient),
        }
        for (const [name, cycle] of Object.entries(proxiedCycles)) {
          // The first call loads scripts and starts the one subscription to release messages, whose
          // connection comes up in the background: let it settle before counting.
          await cycle('warm')
          await sleep(200)
          const before = proxy.turns()
          for (let i = 0; i < COUNTED; i++) await cycle('counted')
          trips.set(name, (proxy.turns() - before) / COUNTED)
        }
        await proxiedLocks.close()
        await proxied.close()
        proxiedClient.disconnect()
        await proxy.close()

        progress('handoff latency')
        const count = quick ? 30 : 200
        const ckHandoff = await handoffs(
          count,
          async (name) => {
            const held = await locks.lock(name)
            return async () => void (await held.release())
          },
          async (name) => {
            const held = await otherLocks.lock(name, { wait: 5000 })
            return async () => void (await held.release())
          },
        )
        const rsLock = (client: Redis) => async (name: string) => {
          const mutex = new Mutex(client, name, {
            lockTimeout: 10_000,
            refreshInterval: 0,
            acquireTimeout: 5000,
          })
          await mutex.acquire()
          return () => mutex.release()
        }
        const rsHandoff = await handoffs(count, rsLock(clients[0] as Redis), rsLock(clients[1] as Redis))
        const rlLock = (client: Redis, retry: typeof REDLOCK_DEFAULTS) => {
          const redlock = redlockOn(client, retry, 5000)
          return async (name: string) => {
            const held = await redlock.acquire([name], 10_000)
            return async () => void (await held.release())
          }
        }
        const rlDefaultCount = Math.min(count, REDLOCK_DEFAULT_HANDOFFS)
        const rlHandoff = await handoffs(
          rlDefaultCount,
          rlLock(clients[0] as Redis, REDLOCK_DEFAULTS),
          rlLock(clients[1] as Redis, REDLOCK_DEFAULTS),
        )
        const rlTunedHandoff = await handoffs(
          count,
          rlLock(clients[0] as Redis, REDLOCK_TUNED),
          rlLock(clients[1] as Redis, REDLOCK_TUNED),
        )

        const get = (task: string) => measured.get(task)!
        const rows = Object.keys(cycles).map((name) => [
          name,
          `${ops(get(`${name} serial`).opsPerSec)} ${percent(get(`${name} serial`).spread)}`,
          `${ops(get(`${name} ${CALLERS} callers`).opsPerSec)} ${percent(get(`${name} ${CALLERS} callers`).spread)}`,
          trips.has(name) ? (trips.get(name) as number).toFixed(2) : '2 (by construction)',
        ])
        const serialRatio = pairedRatio(get(`${CK} serial`), get(`${RS} serial`))
        const parallelRatio = pairedRatio(get(`${CK} ${CALLERS} callers`), get(`${RS} ${CALLERS} callers`))
        const serialRedlock = pairedRatio(get(`${CK} serial`), get(`${RL} serial`))
        const parallelRedlock = pairedRatio(get(`${CK} ${CALLERS} callers`), get(`${RL} ${CALLERS} callers`))
        const latency = [
          [`${CK} (release grants it to the queued waiter)`, ckHandoff],
          [`${RS} (polls every 10 ms, its default)`, rsHandoff],
          [
            `${RL}, its defaults (retryDelay 200 ms + jitter up to 100 ms; ${rlDefaultCount} handoffs)`,
            rlHandoff,
          ],
          [`${RL}, tuned (retryDelay 10 ms, no jitter)`, rlTunedHandoff],
        ] as const
        const ckTrips = trips.get(CK) ?? Number.NaN
        const p99 = percentile(ckHandoff, 99)
        const targets: Target[] = [
          {
            name: 'cachekit uncontended acquire + release: round trips',
            goal: '2',
            measured: ckTrips.toFixed(2),
            met: ckTrips <= 2,
          },
          ratioTarget('cachekit vs redis-semaphore, serial acquire + release', serialRatio, '>=', 1.2),
          ratioTarget(`cachekit vs redis-semaphore, ${CALLERS} callers`, parallelRatio, '>=', 1.2),
          ratioTarget('cachekit vs redlock, serial acquire + release', serialRedlock, '>=', 2),
          ratioTarget(`cachekit vs redlock, ${CALLERS} callers`, parallelRedlock, '>=', 2),
          {
            name: 'cachekit handoff latency p99 (loopback)',
            goal: '<= 2 ms',
            measured: `${p99.toFixed(2)} ms`,
            met: p99 <= 2,
          },
        ]
        const body = [
          `Redis ${server.version} on loopback. Throughput is ${roundsNote(options)}; ratios are medians of per-round ratios.`,
          '',
          table(
            [
              'uncontended acquire + release',
              'ops/s, one at a time',
              `ops/s, ${CALLERS} callers`,
              'round trips',
            ],
            rows,
          ),
          '',
          `cachekit / redis-semaphore: ${ratio(serialRatio)} one at a time, ${ratio(parallelRatio)} with ${CALLERS} callers. cachekit / redlock: ${ratio(serialRedlock)} one at a time, ${ratio(parallelRedlock)} with ${CALLERS} callers.`,
          '',
          'Configuration on every row: lock TTL 10 s, no automatic extension (cachekit `lock()` with `wait: 0`; redis-semaphore `refreshInterval: 0`; redlock `acquire()`, which never extends), a release after each acquire; redlock has one ioredis client (a quorum of 1) and its default retry settings, which an uncontended acquire never uses.',
          '',
          table(
            [`handoff to a waiter on another connection (${count} handoffs)`, 'p50 ms', 'p99 ms', 'max ms'],
            latency.map(([name, values]) => [
              name,
              percentile(values, 50).toFixed(2),
              percentile(values, 99).toFixed(2),
              Math.max(...values).toFixed(2),
            ]),
          ),
          '',
          'Every waiter waits up to 5 s and holds a 10 s TTL. the release script of cachekit grants the lock to the queued waiter (a new fencing token) and publishes the grant (pub/sub), and the waiter runs with no further round trip (it extends the short claim to its own TTL in the background); redis-semaphore re-tries every 10 ms (its default `retryInterval`); redlock re-tries every `retryDelay` plus a random `retryJitter` (its defaults 200 ms + up to 100 ms, the settings of an application that does not tune them, measured on fewer handoffs since each takes a poll; and tuned to 10 ms, no jitter, as redis-semaphore polls).',
          '',
          'The two floor rows run two trivial scripts per operation with no lock logic: the distance from cachekit to its store floor is what the lock layer adds; the distance between the floors is the Redis client path (the store: node-redis behind a deadline and a circuit breaker; redis-semaphore: bare ioredis).',
          '',
          table(
            ['target', 'goal', 'measured', ''],
            targets.map((t) => [t.name, t.goal, t.measured, met(t.met)]),
          ),
        ].join('\n')
        return { body, targets }
      } finally {
        await locks.close()
        await otherLocks.close()
        await Promise.all(stores.map((s) => s.close()))
        for (const client of clients) client.disconnect()
      }
    })
  },
})
