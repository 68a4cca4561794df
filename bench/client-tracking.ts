/**
 * Scenario 9: Redis server-assisted client-side caching (RESP3 `CLIENT TRACKING`, node-redis 6's
 * `clientSideCache`) against cachekit's tiers with their pub/sub invalidation bus, on one throwaway
 * `redis-server` (lib/redis-server.ts). Three parts: the hit on a hot key set (with raw node-redis
 * GET, no local cache, as the baseline); how long a write in one process takes to reach the local
 * cache of three others (the children of lib/invalidation.ts, as in bench/tiers.ts); and what a
 * write costs when three other processes track or subscribe, against none.
 */

import os from 'node:os'
import { createClient } from 'redis'
import { createCache, memoryStore } from './lib/cachekit.js'
import { redisStore } from './lib/cachekit-redis.js'
import {
  generate,
  PREFIX,
  profileDocument,
  randomOrder,
  STORE_TIMEOUT_MS,
  TTL,
  TTL_MS,
  windows,
} from './lib/data.js'
import { ops, percent, ratio, table } from './lib/format.js'
import { invalidationLatency, type Latency, quantile } from './lib/invalidation.js'
import type { Library } from './lib/invalidation-child.js'
import { type MeasureOptions, measure, type OpTask, pairedRatio, roundsNote } from './lib/measure.js'
import {
  type BenchRedis,
  command,
  commandCounts,
  commandDelta,
  describeCommands,
  withBenchRedis,
} from './lib/redis-server.js'
import { defineScenario, progress, type Target } from './lib/scenario.js'
import {
  IN_FLIGHT,
  QUICK_WRITE_KEYS,
  QUICK_WRITE_ROUNDS,
  READERS,
  trackedItems,
  WRITE_KEYS,
  WRITE_ROUNDS,
  type WriteCost,
  writeCost,
} from './lib/write-cost.js'

const ENTRIES = 10_000
/** Gets per timed call: served locally, and over the network (the baseline, ~50x slower). */
const LOCAL_BATCH = 1_000
const REMOTE_BATCH = 200
const FULL: MeasureOptions = { time: 100, warmupTime: 20, rounds: 8 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1 }
const WRITES = 200
const QUICK_WRITES = 40

const RAW = 'node-redis GET, no local cache (baseline)'
const CSC = 'node-redis + clientSideCache (RESP3 tracking): GET'
const CSC_PARSE = 'node-redis + clientSideCache: GET + JSON.parse'
const CACHEKIT = 'cachekit tiers (memory L1 + redis L2 + pub/sub bus): get'

const NAMES: Record<Exclude<Library, 'bentocache'>, string> = {
  cachekit: 'cachekit tiers + pub/sub bus',
  'node-redis-csc': 'node-redis clientSideCache (CLIENT TRACKING)',
}
const LIBRARIES = ['cachekit', 'node-redis-csc'] as const

type Doc = Record<string, unknown> & { id: number }

export default defineScenario({
  title: '9. Client-side caching (RESP3 CLIENT TRACKING) vs the pub/sub invalidation bus',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const options = quick ? QUICK : FULL
  const hits = await hitThroughput(server, options)
  await new Promise((resolve) => setTimeout(resolve, 100))
  hits.trackingAfterClose = trackedItems(await command(server.port, 'INFO stats'))

  const writes = quick ? QUICK_WRITES : WRITES
  const latency = new Map<string, Latency>()
  for (const library of LIBRARIES) {
    progress(`invalidation: ${library}, 1 writer + ${READERS} readers, ${writes} writes`)
    latency.set(library, await invalidationLatency(server, library, writes, READERS, 'spin'))
  }

  const costs = new Map<string, WriteCost>()
  for (const library of LIBRARIES) {
    progress(`write cost: ${library}, alone and with ${READERS} readers`)
    costs.set(library, await writeCost(server, library, quick))
  }

  const body = render(server, options, writes, quick, hits, latency, costs)
  // No target: the issue asks to measure both and choose, with no figure to reach.
  const targets: Target[] = []
  return { body, targets }
}

// Part 1: hits on a hot key set.

interface Hits {
  readonly results: Awaited<ReturnType<typeof measure>>
  readonly commands: Map<string, string>
  readonly json: number
  /** Server tracking-table items with the client-side cache filled. */
  readonly tracking: number
  /** The same, once that client had closed. */
  trackingAfterClose: number
}

async function hitThroughput(server: BenchRedis, options: MeasureOptions): Promise<Hits> {
  const template = profileDocument()
  const docs = generate(ENTRIES, (i): Doc => ({ ...template, id: 100_000 + i }))
  const json = docs.map((doc) => JSON.stringify(doc))
  const keys = generate(ENTRIES, (i) => `account:${100_000 + i}`)
  const rawKeys = keys.map((key) => `raw:${key}`)
  const cscKeys = keys.map((key) => `csc:${key}`)
  const order = randomOrder(ENTRIES)

  const raw = createClient({ url: server.url, RESP: 3 })
  const csc = createClient({
    url: server.url,
    RESP: 3,
    clientSideCache: { ttl: 0, maxEntries: 2 * ENTRIES, evictPolicy: 'LRU' },
  })
  for (const client of [raw, csc]) client.on('error', () => {})
  await Promise.all([raw.connect(), csc.connect()])
  const cache = createCache({
    tiers: [
      memoryStore({ maxEntries: 2 * ENTRIES }),
      redisStore({ url: server.url, timeout: STORE_TIMEOUT_MS }),
    ],
    prefix: PREFIX,
    ttl: TTL,
  })
  const misses = { count: 0 }
  try {
    // A tiered cache empties its L1 when its bus comes up: let it subscribe before filling.
    await cache.get('warmup')
    await new Promise((resolve) => setTimeout(resolve, 500))
    progress(`filling ${ENTRIES.toLocaleString('en-US')} ~1 KB values per contender`)
    for (let at = 0; at < ENTRIES; at += 500) {
      const slice = keys.slice(at, at + 500)
      await Promise.all(
        slice.flatMap((key, j) => [
          raw.set(rawKeys[at + j]!, json[at + j]!, { expiration: { type: 'PX', value: TTL_MS } }),
          csc.set(cscKeys[at + j]!, json[at + j]!, { expiration: { type: 'PX', value: TTL_MS } }),
          cache.set(key, docs[at + j]!),
        ]),
      )
    }
    // First reads fill the client-side cache (a GET is only cached once read); then check values.
    for (const key of cscKeys) await csc.get(key)
    for (const key of keys) await cache.get(key)
    for (const i of [0, 4_321, ENTRIES - 1]) {
      if ((await raw.get(rawKeys[i]!)) !== json[i]) throw new Error('raw node-redis returned a wrong value')
      if ((await csc.get(cscKeys[i]!)) !== json[i]) throw new Error('clientSideCache returned a wrong value')
      const got = await cache.get<Doc>(keys[i]!)
      if (got?.id !== docs[i]!.id) throw new Error(`cachekit returned ${JSON.stringify(got)}`)
    }
    const tracking = trackedItems(await command(server.port, 'INFO stats'))

    // What one pass over every key sends Redis: none for a local hit.
    const commands = new Map<string, string>()
    const pass = async (name: string, get: (i: number) => Promise<unknown>) => {
      const before = await commandCounts(server.port)
      for (let i = 0; i < ENTRIES; i++) await get(i)
      commands.set(name, describeCommands(commandDelta(before, await commandCounts(server.port))))
    }
    await pass(RAW, (i) => raw.get(rawKeys[i]!))
    await pass(CSC, (i) => csc.get(cscKeys[i]!))
    commands.set(CSC_PARSE, commands.get(CSC)!)
    await pass(CACHEKIT, (i) => cache.get(keys[i]!))

    const task = (name: string, batch: number, get: (i: number) => Promise<unknown>): OpTask => {
      const next = windows(ENTRIES, batch)
      return {
        name,
        async: true,
        ops: batch,
        fn: async () => {
          const at = next()
          for (let j = at; j < at + batch; j++) if ((await get(order[j]!)) == null) misses.count++
        },
      }
    }
    const tasks = [
      task(RAW, REMOTE_BATCH, (i) => raw.get(rawKeys[i]!)),
      task(CSC, LOCAL_BATCH, (i) => csc.get(cscKeys[i]!)),
      task(CSC_PARSE, LOCAL_BATCH, async (i) => JSON.parse((await csc.get(cscKeys[i]!))!) as Doc),
      task(CACHEKIT, LOCAL_BATCH, (i) => cache.get(keys[i]!)),
    ]
    progress(`${tasks.length} contenders × ${options.rounds} rounds`)
    const results = await measure(tasks, options)
    if (misses.count !== 0) throw new Error(`${misses.count} gets missed; the figures would not be hits`)
    return { results, commands, json: Buffer.byteLength(json[0]!), tracking, trackingAfterClose: Number.NaN }
  } finally {
    await cache.close().catch(() => {})
    await Promise.all([raw.close(), csc.close()]).catch(() => {})
  }
}

// The report.

function render(
  server: BenchRedis,
  options: MeasureOptions,
  writes: number,
  quick: boolean,
  hits: Hits,
  latency: Map<string, Latency>,
  costs: Map<string, WriteCost>,
): string {
  const { results } = hits
  const base = results.get(RAW)!
  const hitRows = [RAW, CSC, CSC_PARSE, CACHEKIT].map((name) => {
    const m = results.get(name)!
    return [
      name,
      `${ops(m.opsPerSec)} ${percent(m.spread)}`,
      ratio(pairedRatio(m, base)),
      hits.commands.get(name)!,
    ]
  })
  const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`
  const latencyRows = LIBRARIES.map((library) => {
    const l = latency.get(library)!
    return [
      NAMES[library],
      `${l.samples.length} (${l.invalid} rounds discarded)`,
      ms(quantile(l.samples, 0.5)),
      ms(quantile(l.samples, 0.9)),
      ms(quantile(l.samples, 0.99)),
      ms(quantile(l.samples, 1)),
      ms(quantile(l.writeNs, 0.5)),
      l.lost,
    ]
  })
  const costRows = LIBRARIES.flatMap((library) => {
    const c = costs.get(library)!
    return IN_FLIGHT.map((inFlight) => {
      const a = c.alone.get(inFlight)!
      const w = c.withReaders.get(inFlight)!
      return [NAMES[library], inFlight, ops(a), ops(w), ratio(w / a)]
    })
  })
  const costNotes = LIBRARIES.map((library) => {
    const c = costs.get(library)!
    return `- **${NAMES[library]}**: per write the server ran ${c.commands}; the server's tracking table (\`tracking_total_items\`) went from ${c.trackedBefore.toLocaleString('en-US')} to ${c.trackedAfter.toLocaleString('en-US')} items during the last pass.`
  })

  const ck = latency.get('cachekit')!
  const csc = latency.get('node-redis-csc')!
  const keysPerPass = quick ? QUICK_WRITE_KEYS : WRITE_KEYS

  return [
    `One \`redis-server\` ${server.version} started for this scenario on a free loopback port (no persistence). node-redis 6 (\`redis\`), whose default protocol is RESP3; its client-side cache is \`createClient({ RESP: 3, clientSideCache: { ttl, maxEntries, evictPolicy } })\` (a \`BasicClientSideCache\`, which sends \`CLIENT TRACKING ON\` in the connection handshake: default tracking mode, the server remembers which keys each connection read).`,
    '',
    '### Hits on a hot key set',
    '',
    `${ENTRIES.toLocaleString('en-US')} keys, ~1 KB values (\`profileDocument()\` of bench/lib/data.ts; node-redis stores its JSON, ${hits.json} bytes; cachekit stores the object through its codec). Every key is written and read once before timing, so every get is a local hit except for the baseline; checked: one pass over every key sent Redis the commands in the last column. Each timed call is ${LOCAL_BATCH.toLocaleString('en-US')} awaited gets on keys taken in a random order, the same for every contender (${REMOTE_BATCH} for the baseline); cachekit has prefix \`${PREFIX}\` and a default TTL of \`${TTL}\`, the node-redis writes the same TTL; ops/s is ${roundsNote(options)}; "÷ baseline" is the median of per-round ratios. The server's tracking table (\`INFO stats\` \`tracking_total_items\`) held ${hits.tracking.toLocaleString('en-US')} items with the client-side cache filled, and still ${hits.trackingAfterClose.toLocaleString('en-US')} after that client had closed: a closed connection's items stay until their keys are next written.`,
    '',
    table(
      [
        'Contender',
        'get hit ops/s',
        '÷ baseline',
        `Redis commands during ${ENTRIES.toLocaleString('en-US')} gets`,
      ],
      hitRows,
    ),
    '',
    `- node-redis's cache keeps the reply as it came (a string) and returns a \`structuredClone\` of it on every hit; an application that caches objects has to parse it every time (third row). cachekit's L1 keeps the decoded value (frozen), so a hit hands back the object with no decoding.`,
    '',
    `### Invalidation latency across ${1 + READERS} processes`,
    '',
    `The children of bench/lib/invalidation.ts, as in scenario 6: one writer and ${READERS} readers, each with its own client on the same Redis. Each round every reader proves it serves the key locally, then reads it in a loop (yielding to the event loop between reads) until it sees the writer's new value; latency is from the writer's t0 to that first read, on the machine-wide monotonic clock. Proof of a local copy: for cachekit, the key is first deleted from Redis directly (no bus message), so reading the old value can only come from L1; that delete would itself invalidate a tracking client, so node-redis readers instead show that the read raised their cache's hit count by one. ${writes} writes × ${READERS} readers; "lost" counts reader rounds that never saw the new value within 2 s; "write" is the writer's own set (cachekit: L2 SET + PUBLISH; node-redis: SET).`,
    '',
    table(['Invalidation', 'samples', 'p50', 'p90', 'p99', 'max', 'write p50', 'lost'], latencyRows),
    '',
    `### Write cost with ${READERS} readers tracking or subscribed`,
    '',
    `One writer process sets ${keysPerPass.toLocaleString('en-US')} keys per pass (1 at a time, and ${IN_FLIGHT[1]} in flight), first alone, then with ${READERS} reader processes that each read every key just before the pass (untimed), so every write invalidates a local copy in each of them: node-redis readers track the keys (the server sends each an \`invalidate\` push), cachekit readers are subscribed to the bus (each gets every PUBLISH and drops its L1 copy). The passes alternate: writer alone, then ${READERS} fresh reader processes started for a pass with readers and closed after it (after an untimed warm-up pass); ops/s is the best of ${quick ? QUICK_WRITE_ROUNDS : WRITE_ROUNDS} passes of each. The readers share the machine's ${os.availableParallelism()} cores with the writer and Redis, as app servers on one host would.`,
    '',
    table(
      [
        'Invalidation',
        'in flight',
        'set ops/s, writer alone',
        `set ops/s, ${READERS} readers`,
        'with ÷ alone',
      ],
      costRows,
    ),
    '',
    ...costNotes,
    '',
    '### Differences the numbers do not show',
    '',
    "- **Scope.** `CLIENT TRACKING` invalidates on *any* change of a key the connection read: a write from another program, `redis-cli`, a Lua script, expiry, eviction, `FLUSHDB` (a null invalidation: everything). The bus only knows what cachekit instances publish; a write behind its back (as the L1 proof above does on purpose) leaves L1 stale until its TTL. In return, the bus carries what tracking cannot: cachekit's tags and patterns (`deleteByTag`, `expireByTag`, `deletePattern`, `clear`) as one message each, and L1 also holds values read from the SQL fallback, which Redis cannot track.",
    '- **Per connection, RESP3 only.** Tracking state lives in the server per connection (default mode: one tracking-table item per key per connection, bounded by `tracking-table-max-keys`, whose overflow evicts keys *and* invalidates them in every client); node-redis refuses `clientSideCache` unless `RESP: 3` (Redis ≥ 6; Valkey too). BCAST mode (prefixes, no server memory per key) is not what `BasicClientSideCache` sends. The bus costs one pub/sub connection per instance and no per-key server memory, and works with RESP2 and any client, ioredis included.',
    '- **Cluster and Sentinel.** node-redis supports it there too (`createCluster`/`createSentinel` with `clientSideCache`: a pooled cache shared by the node connections, cleared and disabled while the cluster rediscovers its slots). The bus on a Cluster is plain pub/sub, broadcast to every node.',
    "- **Disconnects.** node-redis clears the whole client-side cache when the socket errors (`onError()` → `clear()`) and on `close()`, and re-sends `CLIENT TRACKING ON` in the reconnection handshake, so it never serves entries from before a gap; cachekit's tiered store likewise stops trusting L1 when its bus goes down and starts it afresh when the bus is back. A read that raced an invalidation is not cached by node-redis (its pending entry is marked invalid), as cachekit's epoch drops an L1 refill started before an invalidation.",
    "- **Local memory and semantics.** node-redis keys its cache by the whole command (`GET k`, `HGETALL k` are separate entries) and stores raw replies; only its own `maxEntries`/`ttl`, no per-entry TTL from Redis (a key that expires in Redis is dropped when the server notices the expiry and sends the invalidation). cachekit's L1 holds decoded values with the entry's remaining TTL, capped by the L1 TTL, and works over any L2 (SQL included).",
    '',
    '### Conclusion',
    '',
    conclusion({
      cscVsRaw: pairedRatio(results.get(CSC)!, base),
      cachekitVsCscParse: pairedRatio(results.get(CACHEKIT)!, results.get(CSC_PARSE)!),
      cachekitVsCsc: pairedRatio(results.get(CACHEKIT)!, results.get(CSC)!),
      ckP50: quantile(ck.samples, 0.5),
      cscP50: quantile(csc.samples, 0.5),
      ckP99: quantile(ck.samples, 0.99),
      cscP99: quantile(csc.samples, 0.99),
      ckWrite: quantile(ck.writeNs, 0.5),
      cscWrite: quantile(csc.writeNs, 0.5),
      lost: ck.lost + csc.lost,
      ckAlone: costs.get('cachekit')!.alone.get(IN_FLIGHT[1])!,
      ckWith: costs.get('cachekit')!.withReaders.get(IN_FLIGHT[1])!,
      cscAlone: costs.get('node-redis-csc')!.alone.get(IN_FLIGHT[1])!,
      cscWith: costs.get('node-redis-csc')!.withReaders.get(IN_FLIGHT[1])!,
    }),
  ].join('\n')
}

interface Figures {
  readonly cscVsRaw: number
  readonly cachekitVsCscParse: number
  readonly cachekitVsCsc: number
  readonly ckP50: number
  readonly cscP50: number
  readonly ckP99: number
  readonly cscP99: number
  readonly ckWrite: number
  readonly cscWrite: number
  readonly lost: number
  readonly ckAlone: number
  readonly ckWith: number
  readonly cscAlone: number
  readonly cscWith: number
}

/** The verdict, with this run's figures in it. */
function conclusion(f: Figures): string {
  const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`
  const close = (a: number, b: number) => a <= b * 1.25 && b <= a * 1.25
  const faster = close(f.ckP99, f.cscP99)
    ? 'about as fast as'
    : f.cscP99 < f.ckP99
      ? 'faster than'
      : 'slower than'
  const latencyGain =
    f.cscP99 * 1.25 < f.ckP99 ? 'and in this run a lower latency' : 'at about the same latency'
  const cheaper = close(f.ckWith, f.cscWith)
    ? 'about as cheap as'
    : f.ckWith > f.cscWith
      ? 'cheaper than'
      : 'dearer than'
  return [
    "**Keep the pub/sub bus as cachekit's default. Offer server-assisted tracking as an opt-in *invalidation source* for cachekit's own L1 (node-redis `emitInvalidate`, RESP3), not node-redis's `clientSideCache` as the cache.** The numbers split, and the scope decides:",
    '',
    `- **Hits**: tracking does not make hits faster, it only changes who sends the invalidation. node-redis's cache is ${ratio(f.cscVsRaw)} the raw GET, but it keeps reply strings and \`structuredClone\`s them on each hit, so for the objects an application caches cachekit's L1 (decoded, frozen values) is ${ratio(f.cachekitVsCscParse)} node-redis's cache + \`JSON.parse\` (${ratio(f.cachekitVsCsc)} even its bare string hit).`,
    `- **Invalidation latency**: tracking is ${faster} the bus here: p50 ${ms(f.cscP50)} vs ${ms(f.ckP50)}, p99 ${ms(f.cscP99)} vs ${ms(f.ckP99)}; ${f.lost === 0 ? 'neither lost an invalidation' : `${f.lost} reader rounds were lost in total`}. The one structural difference favours tracking: Redis emits the push while it executes the SET, whereas cachekit's \`set\` awaits the L2 SET reply and the L1 write before it sends the PUBLISH (write p50 ${ms(f.ckWrite)} against ${ms(f.cscWrite)} for node-redis's SET), one more round trip and event-loop turn before the message leaves, which costs most when the machine is busy. Pipelining the PUBLISH right behind the SET on the same connection (Redis runs them in order) would remove it; that is a change to src/, not made here.`,
    `- **Write cost**: with ${READERS} readers holding every key and ${IN_FLIGHT[1]} writes in flight, the bus is ${cheaper} tracking: ${ops(f.ckWith)} sets/s (${ratio(f.ckWith / f.ckAlone)} of the writer alone) against ${ops(f.cscWith)} (${ratio(f.cscWith / f.cscAlone)}). The bus sends one PUBLISH per write to every instance, whether it holds the key or not (and even with no listener); tracking sends a push only to the connections that read the key, but keeps one server-side tracking-table item per key per connection (lingering after the connection closes, bounded by \`tracking-table-max-keys\`, whose overflow invalidates keys in every client). Neither is a bottleneck at this scale.`,
    '',
    `On this shared 2-core machine, differences within about ±25% between the two are within run-to-run noise (the load average is in the line above); the hit ratios are steadier than the multi-process figures.`,
    '',
    `Why the bus stays the default: it serves every cachekit configuration — ioredis and node-redis, RESP2, Sentinel and Cluster, the SQL fallback (whose values Redis cannot track), and tags, patterns and \`clear()\` as one message each — with no per-key server memory. What tracking adds that the bus cannot is invalidation on writes cachekit never sees (other programs, scripts, expiry, \`FLUSHDB\`), ${latencyGain}. Both are worth having for deployments with writers outside cachekit, so the option should feed the same L1 (decoded values, remaining-TTL refill, bus-down handling) rather than swap in node-redis's cache: tracking is per connection, so L2 reads must go through the tracked connection, and the bus still has to carry tag, pattern and clear invalidations. A RESP2 client (ioredis) could do the same with \`CLIENT TRACKING ON REDIRECT <id>\` to a connection subscribed to \`__redis__:invalidate\`.`,
  ].join('\n')
}
