/**
 * Child of the cross-process invalidation tests (bench/tiers.ts, bench/client-tracking.ts; parent
 * side in ./invalidation.ts): one process with a locally cached client (a tiered cache, L1 memory
 * over L2 Redis with the library's own invalidation bus, or node-redis with its RESP3 client-side
 * cache), driven by the parent over IPC. The writer sets keys; a reader first proves a key is served from its L1, then reads it
 * in a loop until it sees the writer's new value and reports when, on the machine-wide monotonic
 * clock (`process.hrtime.bigint()`, CLOCK_MONOTONIC, the same in every process).
 *
 * `node --import tsx invalidation-child.ts <library> <redis-url>`
 */
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { createClient } from 'redis'
import { createCache, memoryStore } from './cachekit.js'
import { redisStore } from './cachekit-redis.js'
import { PREFIX, STORE_TIMEOUT_MS, TTL } from './data.js'

/** `node-redis-csc`: node-redis 6 with `clientSideCache` (RESP3, `CLIENT TRACKING ON`), JSON values. */
export type Library = 'cachekit' | 'bentocache' | 'node-redis-csc'

/**
 * How a reader reads while it waits for the new value. `spin`: again as soon as the event loop has
 * run (a busy loop that still reads the sockets). `paced`: about once a millisecond
 * (`setTimeout(1)`), idle in between, as a server taking ~1,000 requests/s would be.
 */
export type Pace = 'spin' | 'paced'

export interface Versioned {
  readonly round: number
  readonly v: number
}

export type Request =
  | { readonly type: 'prime'; readonly keys: readonly string[] }
  | { readonly type: 'load'; readonly keys: readonly string[] }
  | { readonly type: 'arm'; readonly key: string; readonly round: number; readonly pace: Pace }
  | { readonly type: 'write'; readonly key: string; readonly round: number }
  /** Writes `{ round: i, v: 0 }` to `keys[i]` for every key, `inFlight` at a time, and times it. */
  | { readonly type: 'flood'; readonly keys: readonly string[]; readonly inFlight: number }
  | { readonly type: 'close' }

export type Reply =
  /**
   * `proof`: how a reader shows a key is served locally. `l2-delete`: the parent deletes it from
   * Redis behind the bus's back first, so reading the old value proves L1. `local-hits`: the
   * server would invalidate on that delete, so the reader counts its local cache's hits instead.
   */
  | { readonly type: 'started'; readonly l2Key: string; readonly proof: 'l2-delete' | 'local-hits' }
  | { readonly type: 'primed' }
  | { readonly type: 'loaded'; readonly ok: boolean }
  /** `l1`: the key read back its old value while L2 no longer held it, so it came from L1. */
  | { readonly type: 'armed'; readonly l1: boolean }
  /** When the new value was first read (hrtime ns as a string), or null after {@link GIVE_UP_MS}. */
  | { readonly type: 'seen'; readonly at: string | null; readonly reads: number }
  | { readonly type: 'written'; readonly t0: string; readonly t1: string }
  | { readonly type: 'flooded'; readonly ns: string }

/** A reader gives up on a round after this long. */
const GIVE_UP_MS = 2_000

interface Tiered {
  get(key: string): Promise<Versioned | undefined>
  set(key: string, value: Versioned): Promise<unknown>
  /** The key as written in Redis. */
  l2Key(key: string): string
  /** Reads served by the local cache so far, for libraries that prove L1 this way. */
  localHits?(): number
  close(): Promise<unknown>
}

const [library, url] = process.argv.slice(2) as [Library, string]
if (!library || !url || !process.send)
  throw new Error('usage: fork invalidation-child.ts <library> <redis-url>')

async function make(): Promise<Tiered> {
  if (library === 'node-redis-csc') {
    const client = createClient({ url, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } })
    client.on('error', () => {})
    await client.connect()
    const prefix = 'csc:'
    return {
      get: async (key) => {
        const json = await client.get(prefix + key)
        return json === null ? undefined : (JSON.parse(json) as Versioned)
      },
      set: (key, value) =>
        client.set(prefix + key, JSON.stringify(value), { expiration: { type: 'PX', value: 600_000 } }),
      l2Key: (key) => prefix + key,
      localHits: () => client.clientSideCache!.stats().hitCount,
      close: () => client.close(),
    }
  }
  if (library === 'cachekit') {
    const cache = createCache({
      tiers: [memoryStore({ maxEntries: 10_000 }), redisStore({ url, timeout: STORE_TIMEOUT_MS })],
      prefix: PREFIX,
      ttl: TTL,
    })
    return {
      get: (key) => cache.get<Versioned>(key),
      set: (key, value) => cache.set(key, value),
      l2Key: (key) => cache.makeKey(key),
      close: () => cache.close(),
    }
  }
  const { hostname: host, port } = new URL(url)
  const connection = { host, port: Number(port) }
  const bento = new BentoCache({
    default: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection, prefix: 'bentoinv' }))
        .useBus(redisBusDriver({ connection })),
    },
  })
  return {
    get: (key) => bento.get<Versioned>({ key }),
    set: (key, value) => bento.set({ key, value, ttl: '10m' }),
    l2Key: (key) => `bentoinv:${key}`,
    close: () => bento.disconnectAll(),
  }
}

// The parent is gone (a failed scenario): do not outlive it.
process.on('disconnect', () => process.exit(0))

const cache = await make()
const send = (reply: Reply): void => {
  process.send!(reply)
}

// Let the bus subscribe (a tiered cache empties its L1 when its bus comes up) before anything counts.
// A loaded machine may take longer than the store's first-connection wait: retry for up to 10 s.
for (let attempt = 0; ; attempt++) {
  try {
    await cache.get('warmup')
    break
  } catch (error) {
    if (attempt === 50) throw error
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
await new Promise((resolve) => setTimeout(resolve, 500))
send({ type: 'started', l2Key: cache.l2Key('k'), proof: cache.localHits ? 'local-hits' : 'l2-delete' })

let queue = Promise.resolve()
process.on('message', (request: Request) => {
  queue = queue
    .then(() => handle(request))
    .catch((error: unknown) => {
      console.error(error)
      process.exit(1)
    })
})

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'prime':
      for (const [round, key] of request.keys.entries()) await cache.set(key, { round, v: 0 })
      return send({ type: 'primed' })
    case 'load': {
      let ok = true
      for (const [round, key] of request.keys.entries()) {
        const got = await cache.get(key)
        if (got?.round !== round || got.v !== 0) ok = false
      }
      return send({ type: 'loaded', ok })
    }
    case 'arm': {
      const hits = cache.localHits?.()
      const before = await cache.get(request.key)
      const local = hits === undefined || cache.localHits!() === hits + 1
      const l1 = local && before?.round === request.round && before.v === 0
      send({ type: 'armed', l1 })
      // Poll until the new value shows, yielding to the event loop between reads so the bus's
      // socket is read (see Pace).
      const giveUp = process.hrtime.bigint() + BigInt(GIVE_UP_MS) * 1_000_000n
      let reads = 0
      for (;;) {
        const got = await cache.get(request.key)
        reads++
        const now = process.hrtime.bigint()
        if (got?.v === 1) return send({ type: 'seen', at: String(now), reads })
        if (now > giveUp) return send({ type: 'seen', at: null, reads })
        await (request.pace === 'spin' ? tick() : sleep(1))
      }
    }
    case 'write': {
      const t0 = process.hrtime.bigint()
      await cache.set(request.key, { round: request.round, v: 1 })
      const t1 = process.hrtime.bigint()
      return send({ type: 'written', t0: String(t0), t1: String(t1) })
    }
    case 'flood': {
      const { keys, inFlight } = request
      let next = 0
      const worker = async () => {
        while (next < keys.length) {
          const round = next++
          await cache.set(keys[round]!, { round, v: 0 })
        }
      }
      const t0 = process.hrtime.bigint()
      await Promise.all(Array.from({ length: inFlight }, worker))
      return send({ type: 'flooded', ns: String(process.hrtime.bigint() - t0) })
    }
    case 'close':
      // Some clients complain about their own shutdown; the measurements are in by now.
      await cache.close().catch(() => {})
      process.exit(0)
  }
}
