/**
 * Scenario 5: the Redis store against the clients and Redis caches a user would pick instead, on
 * one throwaway `redis-server` (lib/redis-server.ts) over loopback. get and set of 1 KB values one
 * at a time and 100 in flight on one connection, getMany(100) (and how many commands it costs the
 * server), and deletePattern over 100,000 keys. Raw node-redis with its per-command timer off is
 * the limit.
 */

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createKeyv } from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { createCache } from './lib/cachekit.js'
import { redisStore } from './lib/cachekit-redis.js'
import { generate, windows } from './lib/data.js'
import { met, ops, percent, ratio, table } from './lib/format.js'
import {
  inFlight,
  type Measured,
  type MeasureOptions,
  measure,
  median,
  type OpTask,
  pairedRatio,
  roundsNote,
} from './lib/measure.js'
import {
  type BenchRedis,
  commandCounts,
  commandDelta,
  describeCommands,
  withBenchRedis,
} from './lib/redis-server.js'
import { defineScenario, progress, ratioTarget, type Target } from './lib/scenario.js'

/** Keys per contender for get and set; every get is a hit. */
const KEYS = 10_000
/** A 1,024-character ASCII string: 1 KB on the wire for the raw clients. */
const VALUE = Array.from({ length: 1024 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('')
const TTL_MS = 10 * 60_000
/** Operations per timed call: one at a time, and with {@link IN_FLIGHT} callers. */
const SERIAL_BATCH = 200
const IN_FLIGHT = 100
const PARALLEL_BATCH = 2_000
const MANY = 100
/** getMany calls per timed call. */
const MANY_BATCH = 20
const DELETE_KEYS = 100_000
/** Keys outside the pattern that every deletion must leave alone. */
const BYSTANDERS = 10_000

const FULL: MeasureOptions = { time: 150, warmupTime: 40, rounds: 6 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1 }

type Op = 'get1' | 'get100' | 'set1' | 'set100' | 'getMany'
const OPS: readonly Op[] = ['get1', 'get100', 'set1', 'set100', 'getMany']

interface Deleter {
  readonly note: string
  /** The Redis keys it removes are `${prefix}${i}`; bench fills them raw before each round. */
  readonly prefix: string
  run(): Promise<unknown>
}

interface Contender {
  readonly name: string
  readonly note: string
  /** The key the contender is called with for index i (it may add its own prefix). */
  readonly keys: readonly string[]
  get(key: string): Promise<unknown>
  set(key: string, value: string): Promise<unknown>
  getMany(keys: readonly string[]): Promise<unknown>
  /** How many values a getMany reply holds, to check every key was a hit. */
  found(reply: unknown): number
  readonly deleter: Deleter | undefined
  /** Why there is no deleter, when there is none. */
  readonly noDeleter?: string
  close(): Promise<unknown>
}

const CACHEKIT = 'cachekit'
const NODE_REDIS = 'node-redis (raw, limit)'
const IOREDIS = 'ioredis (raw)'
const BENTO = 'BentoCache (redis driver, L2 only)'
const KEYV = 'Keyv + @keyv/redis'

export default defineScenario({
  title: '5. Redis store: get / set / getMany / deletePattern, 1 KB values, loopback',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const contenders = await makeContenders(server.url)
  const misses = { count: 0 }
  try {
    progress(`filling ${KEYS.toLocaleString('en-US')} keys per contender`)
    for (const c of contenders) {
      for (let at = 0; at < KEYS; at += 500) {
        await Promise.all(c.keys.slice(at, at + 500).map((key) => c.set(key, VALUE)))
      }
      for (const i of [0, 4_321, KEYS - 1]) {
        const got = await c.get(c.keys[i]!)
        if (got !== VALUE)
          throw new Error(`${c.name} returned ${String(got).slice(0, 40)}... for ${c.keys[i]}`)
      }
    }

    // What one call costs the server, counted on the otherwise idle server before any timing.
    const commands = new Map<string, Record<'get' | 'set' | 'getMany', Map<string, number>>>()
    for (const c of contenders) {
      const count = async (call: () => Promise<unknown>) => {
        const before = await commandCounts(server.port)
        await call()
        return commandDelta(before, await commandCounts(server.port))
      }
      const hundred = c.keys.slice(0, MANY)
      commands.set(c.name, {
        get: await count(() => c.get(c.keys[1]!)),
        set: await count(() => c.set(c.keys[1]!, VALUE)),
        getMany: await count(async () => {
          const n = c.found(await c.getMany(hundred))
          if (n !== MANY) throw new Error(`${c.name} getMany found ${n} of ${MANY}`)
        }),
      })
    }

    const tasks: OpTask[] = []
    for (const op of OPS) for (const c of contenders) tasks.push(task(c, op, misses))
    const options = quick ? QUICK : FULL
    progress(`${tasks.length} tasks × ${options.rounds} rounds`)
    const results = await measure(tasks, options)
    if (misses.count !== 0) throw new Error(`${misses.count} gets missed; the figures would not be hits`)

    const deletion = await measureDeletion(server, contenders, quick ? 1 : 3)

    const at = (name: string, op: Op): Measured => results.get(`${name} ${op}`)!
    const vs = (op: Op, name: string) => pairedRatio(at(CACHEKIT, op), at(name, op))
    const cell = (name: string, op: Op) => {
      const m = at(name, op)
      return `${ops(m.opsPerSec)} ${percent(m.spread)}`
    }
    const rows = contenders.map((c) => [
      c.name,
      ...(['get1', 'get100', 'set1', 'set100'] as const).flatMap((op) => [
        cell(c.name, op),
        ratio(vs(op, c.name)),
      ]),
    ])
    const manyRows = contenders.map((c) => {
      const m = at(c.name, 'getMany')
      return [
        c.name,
        `${ops(m.opsPerSec)} ${percent(m.spread)}`,
        ops(m.opsPerSec * MANY),
        ratio(vs('getMany', c.name)),
        describeCommands(commands.get(c.name)!.getMany),
      ]
    })
    const commandRows = contenders.map((c) => {
      const counted = commands.get(c.name)!
      return [c.name, describeCommands(counted.get), describeCommands(counted.set)]
    })
    const limitDeletion = deletion.get(NODE_REDIS)
    const deleteRows = contenders.map((c) => {
      const d = deletion.get(c.name)
      if (!d) return [c.name, 'n/a', 'n/a', 'n/a', c.noDeleter ?? '']
      const ratioToLimit = limitDeletion
        ? median(d.rounds.map((keysPerSec, round) => keysPerSec / limitDeletion.rounds[round]!))
        : Number.NaN
      return [c.name, ops(d.best), `${d.bestMs.toFixed(0)} ms`, ratio(ratioToLimit), c.deleter?.note ?? '']
    })

    const ckMany = commands.get(CACHEKIT)!.getMany
    const oneRoundTrip = ckMany.size === 1 && ckMany.get('mget') === 1
    const ckDelete = deletion.get(CACHEKIT)!
    const targets: Target[] = [
      ratioTarget('cachekit get ÷ raw node-redis get, 100 in flight', vs('get100', NODE_REDIS), '>=', 0.85),
      ratioTarget('cachekit set ÷ raw node-redis set, 100 in flight', vs('set100', NODE_REDIS), '>=', 0.85),
      ratioTarget('cachekit get ÷ BentoCache get, 100 in flight', vs('get100', BENTO), '>=', 1.5),
      ratioTarget('cachekit set ÷ BentoCache set, 100 in flight', vs('set100', BENTO), '>=', 1.5),
      ratioTarget('cachekit get ÷ Keyv get, 100 in flight', vs('get100', KEYV), '>=', 1.5),
      ratioTarget('cachekit set ÷ Keyv set, 100 in flight', vs('set100', KEYV), '>=', 1.5),
      {
        name: 'cachekit getMany(100): commands the server ran',
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
    ]

    const body = [
      `One \`redis-server\` ${server.version} started for this scenario on a free loopback port (no persistence), shared by every contender, each on its own connection and its own keys. Values: a 1,024-character string (cachekit stores it msgpack-encoded, 1,027 bytes; BentoCache and Keyv JSON with their metadata). Every set has a 10-minute TTL. ${KEYS.toLocaleString('en-US')} keys per contender, filled before timing; every get is a hit (checked).`,
      `"1 at a time": ${SERIAL_BATCH} awaited calls in a row per timed call. "100 in flight": ${IN_FLIGHT} callers each awaiting its own calls in a loop over one shared connection, ${PARALLEL_BATCH.toLocaleString('en-US')} calls per timed call, so ~100 are always waiting for a reply. ops/s is ${roundsNote(options)}. "cachekit ÷ row" is the median of per-round ratios (the two ran moments apart in each round); the targets use it.`,
      `Client versions: redis (node-redis) ${version('redis')}, ioredis ${version('ioredis')}, bentocache ${version('bentocache')}, keyv ${version('keyv')}, @keyv/redis ${version('@keyv/redis')}.`,
      '',
      '### get and set',
      '',
      table(
        [
          'Contender',
          'get, 1 at a time',
          'cachekit ÷ row',
          'get, 100 in flight',
          'cachekit ÷ row',
          'set, 1 at a time',
          'cachekit ÷ row',
          'set, 100 in flight',
          'cachekit ÷ row',
        ],
        rows,
      ),
      '',
      'Commands the server ran for one call (from `INFO commandstats` before and after, on the otherwise idle server):',
      '',
      table(['Contender', 'get', 'set'], commandRows),
      '',
      `### getMany(${MANY})`,
      '',
      `${MANY_BATCH} awaited calls per timed call, each for ${MANY} existing keys. "commands per call" is counted like the table above: one MGET is one round trip. BentoCache has no getMany; its row is \`Promise.all\` of ${MANY} gets, what a user of it writes.`,
      '',
      table(['Contender', 'calls/s', 'keys/s', 'cachekit ÷ row', 'commands per call'], manyRows),
      '',
      `### Deleting ${DELETE_KEYS.toLocaleString('en-US')} keys by pattern`,
      '',
      `Each round: the server is emptied, then ${DELETE_KEYS.toLocaleString('en-US')} 1 KB keys matching the contender's pattern and ${BYSTANDERS.toLocaleString('en-US')} others are written raw; only the deletion is timed, and afterwards exactly the ${BYSTANDERS.toLocaleString('en-US')} others must remain (checked). keys/s and time are the best of ${deletion.get(CACHEKIT)!.rounds.length} round(s); "÷ node-redis loop" is the median of per-round ratios to the raw SCAN + UNLINK loop.`,
      '',
      table(['Contender', 'keys/s', 'time', '÷ node-redis loop', 'how'], deleteRows),
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

function task(c: Contender, op: Op, misses: { count: number }): OpTask {
  const { keys } = c
  const name = `${c.name} ${op}`
  switch (op) {
    case 'get1': {
      const next = windows(KEYS, SERIAL_BATCH)
      return {
        name,
        async: true,
        ops: SERIAL_BATCH,
        fn: async () => {
          const at = next()
          for (let i = at; i < at + SERIAL_BATCH; i++)
            if ((await c.get(keys[i]!)) === undefined) misses.count++
        },
      }
    }
    case 'set1': {
      const next = windows(KEYS, SERIAL_BATCH)
      return {
        name,
        async: true,
        ops: SERIAL_BATCH,
        fn: async () => {
          const at = next()
          for (let i = at; i < at + SERIAL_BATCH; i++) await c.set(keys[i]!, VALUE)
        },
      }
    }
    case 'get100':
    case 'set100': {
      const next = windows(KEYS, PARALLEL_BATCH)
      const call =
        op === 'get100'
          ? async (i: number) => {
              if ((await c.get(keys[i]!)) === undefined) misses.count++
            }
          : (i: number) => c.set(keys[i]!, VALUE)
      return {
        name,
        async: true,
        ops: PARALLEL_BATCH,
        fn: () => inFlight(IN_FLIGHT, next(), PARALLEL_BATCH, call),
      }
    }
    case 'getMany': {
      const groups = generate(KEYS / MANY, (g) => keys.slice(g * MANY, (g + 1) * MANY))
      const next = windows(groups.length, MANY_BATCH)
      return {
        name,
        async: true,
        ops: MANY_BATCH,
        fn: async () => {
          const at = next()
          for (let g = at; g < at + MANY_BATCH; g++) {
            if (c.found(await c.getMany(groups[g]!)) !== MANY) misses.count++
          }
        },
      }
    }
  }
}

interface Deletion {
  /** keys/s of each round, in round order. */
  readonly rounds: number[]
  best: number
  bestMs: number
}

async function measureDeletion(
  server: BenchRedis,
  contenders: readonly Contender[],
  rounds: number,
): Promise<Map<string, Deletion>> {
  const admin = createClient({ url: server.url, commandOptions: { timeout: 0 } })
  await admin.connect()
  const out = new Map<string, Deletion>()
  try {
    const withDeleter = contenders.filter((c) => c.deleter !== undefined)
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? withDeleter : [...withDeleter].reverse()
      for (const c of order) {
        const deleter = c.deleter!
        progress(
          `round ${round + 1}/${rounds}: ${c.name} deleting ${DELETE_KEYS.toLocaleString('en-US')} keys`,
        )
        await admin.flushAll()
        await fill(admin, deleter.prefix, DELETE_KEYS)
        await fill(admin, 'bystander:', BYSTANDERS)
        if ((await admin.dbSize()) !== DELETE_KEYS + BYSTANDERS)
          throw new Error('fill did not write every key')
        const t0 = performance.now()
        await deleter.run()
        const ms = performance.now() - t0
        const left = await admin.dbSize()
        if (left !== BYSTANDERS) {
          throw new Error(
            `${c.name}: ${left} keys left after deleting, expected the ${BYSTANDERS} bystanders`,
          )
        }
        const keysPerSec = (DELETE_KEYS * 1000) / ms
        const d = out.get(c.name) ?? { rounds: [], best: 0, bestMs: Number.POSITIVE_INFINITY }
        d.rounds.push(keysPerSec)
        if (keysPerSec > d.best) {
          d.best = keysPerSec
          d.bestMs = ms
        }
        out.set(c.name, d)
      }
    }
    await admin.flushAll()
  } finally {
    admin.destroy()
  }
  return out
}

/** Writes `${prefix}0..n-1` with 1 KB values, 1,000 keys per MSET, 16 MSETs in flight. */
async function fill(
  client: { mSet(pairs: [string, string][]): Promise<unknown> },
  prefix: string,
  n: number,
): Promise<void> {
  const batches: Promise<unknown>[] = []
  for (let at = 0; at < n; at += 1000) {
    const pairs: [string, string][] = []
    for (let i = at; i < Math.min(n, at + 1000); i++) pairs.push([`${prefix}${i}`, VALUE])
    batches.push(client.mSet(pairs))
    if (batches.length === 16) await Promise.all(batches.splice(0))
  }
  await Promise.all(batches)
}

async function makeContenders(url: string): Promise<Contender[]> {
  const port = Number(new URL(url).port)
  const cacheKeys = generate(KEYS, (i) => `user:${100_000 + i}`)
  const ttl = { ttl: TTL_MS }

  const cache = createCache({ store: redisStore({ url }), prefix: 'ck' })
  const cachekit: Contender = {
    name: CACHEKIT,
    note: "`createCache({ store: redisStore({ url }), prefix: 'ck' })`: its defaults (msgpack codec, 100 ms deadline per call, circuit breaker). getMany is `cache.getMany(keys)` (a Map); deletion is `cache.deletePattern('del:*')` (SCAN with COUNT 1000, UNLINK per page, up to 8 UNLINKs in flight).",
    keys: cacheKeys,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value, ttl),
    getMany: (keys) => cache.getMany(keys),
    found: (reply) => (reply as Map<string, unknown>).size,
    deleter: {
      note: '`cache.deletePattern(pattern)`',
      prefix: 'ck:del:',
      run: () => cache.deletePattern('del:*'),
    },
    close: () => cache.close(),
  }

  const client = createClient({ url, commandOptions: { timeout: 0 } })
  await client.connect()
  const nodeKeys = cacheKeys.map((k) => `nr:${k}`)
  const nodeRedis: Contender = {
    name: NODE_REDIS,
    note: "`createClient({ url, commandOptions: { timeout: 0 } })` (node-redis's default 5 s timer per command off, as the issue measured it); `client.get(k)`, `client.set(k, v, { expiration: { type: 'PX', value } })`, `client.mGet(keys)`. Deletion: the plain loop `for await (const keys of client.scanIterator({ MATCH, COUNT: 1000 })) await client.unlink(keys)`.",
    keys: nodeKeys,
    get: (key) => client.get(key).then((v) => v ?? undefined),
    set: (key, value) => client.set(key, value, { expiration: { type: 'PX', value: TTL_MS } }),
    getMany: (keys) => client.mGet(keys as string[]),
    found: (reply) => (reply as unknown[]).filter((v) => v !== null).length,
    deleter: {
      note: 'SCAN + UNLINK loop, one page at a time',
      prefix: 'nr:del:',
      run: async () => {
        for await (const keys of client.scanIterator({ MATCH: 'nr:del:*', COUNT: 1000 })) {
          if (keys.length > 0) await client.unlink(keys)
        }
      },
    },
    close: async () => client.destroy(),
  }

  const io = new Redis(port, '127.0.0.1')
  const ioKeys = cacheKeys.map((k) => `io:${k}`)
  const ioredis: Contender = {
    name: IOREDIS,
    note: "`new Redis(port, host)`, its defaults; `redis.get(k)`, `redis.set(k, v, 'PX', ttl)`, `redis.mget(keys)`. Deletion: `for await (const keys of redis.scanStream({ match, count: 1000 })) await redis.unlink(...keys)`.",
    keys: ioKeys,
    get: (key) => io.get(key).then((v) => v ?? undefined),
    set: (key, value) => io.set(key, value, 'PX', TTL_MS),
    getMany: (keys) => io.mget(keys as string[]),
    found: (reply) => (reply as unknown[]).filter((v) => v !== null).length,
    deleter: {
      note: 'SCAN + UNLINK loop (`scanStream`)',
      prefix: 'io:del:',
      run: async () => {
        for await (const keys of io.scanStream({ match: 'io:del:*', count: 1000 })) {
          if ((keys as string[]).length > 0) await io.unlink(...(keys as string[]))
        }
      },
    },
    close: async () => io.disconnect(),
  }

  const bentoConnection = new Redis(port, '127.0.0.1')
  const bento = new BentoCache({
    default: 'redis',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: bentoConnection, prefix: 'bento' })) },
  })
  const bentoDel = bento.namespace('del')
  const bentoCache: Contender = {
    name: BENTO,
    note: "`new BentoCache({ default: 'redis', stores: { redis: bentostore().useL2Layer(redisDriver({ connection: ioredis, prefix })) } })`: Redis only, no L1 and no bus, so only its Redis path is compared. `bento.get({ key })`, `bento.set({ key, value, ttl })`. No getMany: `Promise.all` of gets. Deletion: it has no pattern delete; the closest is clearing a namespace, `bento.namespace('del').clear()` (SCAN + pipelined UNLINK, prefix only).",
    keys: cacheKeys,
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value, ttl: TTL_MS }),
    getMany: (keys) => Promise.all(keys.map((key) => bento.get({ key }))),
    found: (reply) => (reply as unknown[]).filter((v) => v !== undefined).length,
    deleter: {
      note: '`bento.namespace(ns).clear()`: a whole namespace, not a pattern',
      prefix: 'bento:del:',
      run: () => bentoDel.clear(),
    },
    close: () => bento.disconnectAll(),
  }

  const keyv = createKeyv(url, { namespace: 'kv' })
  const keyvDel = createKeyv(url, { namespace: 'kvdel' })
  const keyvRedis: Contender = {
    name: KEYV,
    note: '`createKeyv(url, { namespace })` from @keyv/redis (a Keyv over `new KeyvRedis(url)`, node-redis underneath with its default 5 s command timer), its defaults (JSON serialization). `keyv.get(k)`, `keyv.set(k, v, ttl)`, `keyv.getMany(keys)`. Deletion: Keyv has no pattern delete; the closest is `keyv.clear()` on a Keyv whose namespace is the prefix (SCAN + UNLINK, namespace only).',
    keys: cacheKeys,
    get: (key) => keyv.get(key),
    set: (key, value) => keyv.set(key, value, TTL_MS),
    getMany: (keys) => keyv.getMany(keys as string[]),
    found: (reply) => (reply as unknown[]).filter((v) => v !== undefined).length,
    deleter: {
      note: '`keyv.clear()` of a namespace: a whole namespace, not a pattern',
      prefix: 'kvdel::',
      run: () => keyvDel.clear(),
    },
    close: async () => {
      await keyv.disconnect()
      await keyvDel.disconnect()
    },
  }

  return [cachekit, nodeRedis, ioredis, bentoCache, keyvRedis]
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
