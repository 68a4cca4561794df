/**
 * Splits the memory hit path's cost by configuration, in one process: cachekit's get with and
 * without prefix and TTL, and raw lru-cache with the settings cachekit's store uses, over the same
 * random order of 100,000 keys. Usage (after `npm run build`):
 *
 *   CACHEKIT_BENCH_MODULE=$PWD/dist/index.js node --import tsx bench/profile/variants.ts
 */
import { LRUCache } from 'lru-cache'
import { createCache, memoryStore } from '../lib/cachekit.js'
import { account, generate, PREFIX, randomOrder, TTL, TTL_MS, userKey } from '../lib/data.js'
import { batchLoop } from '../lib/loops.js'

const N = 100_000
const keys = generate(N, userKey)
const values = generate(N, account)
const order = randomOrder(N)
const misses = { count: 0 }
const input = { keys, values, order, size: N }

const variants: [string, (key: string) => unknown][] = []
for (const [label, options] of [
  ['cachekit, no prefix, no TTL', {}],
  ['cachekit, prefix, no TTL', { prefix: PREFIX }],
  ['cachekit, no prefix, TTL', { ttl: TTL }],
  ['cachekit, prefix + TTL', { prefix: PREFIX, ttl: TTL }],
] as const) {
  const cache = createCache({ store: memoryStore({ maxEntries: 2 * N }), ...options })
  await cache.setMany(keys.map((k, i) => [k, values[i]] as const))
  variants.push([label, (key) => cache.get(key)])
}
const lru = (label: string, options: object, prefix: string) => {
  const cache = new LRUCache<string, object>({ max: 2 * N, ...options })
  for (const [i, key] of keys.entries()) cache.set(prefix + key, values[i]!)
  variants.push([label, prefix ? async (key) => cache.get(prefix + key) : async (key) => cache.get(key)])
}
lru('lru-cache awaited, no TTL', {}, '')
lru('lru-cache awaited, ttl (default ttlResolution 1 ms)', { ttl: TTL_MS }, '')
lru('lru-cache awaited, ttl, ttlResolution 0 (as cachekit)', { ttl: TTL_MS, ttlResolution: 0 }, '')
lru('lru-cache awaited, ttl, key built as prefix + key', { ttl: TTL_MS }, `${PREFIX}:`)

const loops = variants.map(
  ([label, get]) => [label, batchLoop(label, get, { async: true, check: true }, input, misses)] as const,
)
const best = new Map<string, number>()
for (let round = 0; round < 7; round++) {
  for (const [label, loop] of round % 2 ? [...loops].reverse() : loops) {
    const t0 = performance.now()
    await loop()
    const perSec = (N * 1000) / (performance.now() - t0)
    best.set(label, Math.max(best.get(label) ?? 0, perSec))
  }
}
if (misses.count) throw new Error(`${misses.count} misses`)
for (const [label, perSec] of best)
  console.log(`${label.padEnd(56)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} get/s`)
