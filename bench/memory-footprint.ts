/**
 * Scenario 3: bytes per entry of 1,000,000 small entries (`user:123456` → `{ id, name }`) in
 * cachekit's memory store configured as applications configure it (prefix and default TTL) and in
 * raw lru-cache with the same TTL, each built in its own process and measured as the growth of
 * `heapUsed` after forced GC.
 */

import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { createCache, type MutationPolicy, memoryStore } from './lib/cachekit.js'
import { PREFIX, TTL, TTL_MS, type User, user, userKey } from './lib/data.js'
import { bytes, ratio, table } from './lib/format.js'
import { type Builder, type HeapDelta, probeHeap } from './lib/heap.js'
import { defineScenario, progress, ratioTarget } from './lib/scenario.js'

const cachekit =
  (mutation: MutationPolicy, configured = true): Builder =>
  async (n) => {
    const store = memoryStore({ maxEntries: n, mutation })
    const cache = createCache(configured ? { store, prefix: PREFIX, ttl: TTL } : { store })
    for (let i = 0; i < n; i++) await cache.set(userKey(i), user(i))
    return cache
  }

const LRU = 'lru-cache (ttl)'
const CACHEKIT = 'cachekit, prefix+TTL (default: freeze)'

/**
 * Keys and values are made inside each builder and referenced only by the structure, so every
 * figure counts one key string and one value object per entry, plus what the structure adds.
 */
export const builders: Record<string, Builder> = {
  'Map (keys and values only)': async (n) => {
    const map = new Map<string, User>()
    for (let i = 0; i < n; i++) map.set(userKey(i), user(i))
    return map
  },
  'lru-cache (ttl)': async (n) => {
    const lru = new LRUCache<string, User>({ max: n, ttl: TTL_MS })
    for (let i = 0; i < n; i++) lru.set(userKey(i), user(i))
    return lru
  },
  [CACHEKIT]: cachekit('freeze'),
  'cachekit, prefix+TTL (reference)': cachekit('reference'),
  'cachekit, prefix+TTL (clone)': cachekit('clone'),
  'cachekit, no prefix, no TTL (best case, not a target)': cachekit('freeze', false),
}

export default defineScenario({
  title: '3. Memory footprint: bytes per entry with prefix and TTL, 1,000,000 small entries',
  async run({ quick }) {
    const n = quick ? 100_000 : 1_000_000
    const self = fileURLToPath(import.meta.url)
    const measured = new Map<string, HeapDelta>()
    for (const name of Object.keys(builders)) {
      progress(`${name}: ${n.toLocaleString('en-US')} entries`)
      measured.set(name, await probeHeap(self, name, n))
    }
    const perEntry = (name: string) => measured.get(name)!.heapUsed / n
    const rows = [...measured].map(([name, delta]) => [
      name,
      bytes(delta.heapUsed),
      (delta.heapUsed / n).toFixed(1),
      ratio(delta.heapUsed / n / perEntry(LRU)),
      bytes(delta.arrayBuffers),
      `${(delta.buildMs / 1000).toFixed(2)} s`,
    ])
    const targets = [
      ratioTarget(
        `cachekit bytes per entry ÷ lru-cache (prefix+TTL; lru-cache with the same TTL, no prefix notion; ${n.toLocaleString('en-US')} small objects)`,
        perEntry(CACHEKIT) / perEntry(LRU),
        '<=',
        1.5,
      ),
    ]
    const body = [
      `${n.toLocaleString('en-US')} entries \`${userKey(23_456)}\` → \`${JSON.stringify(user(23_456))}\`, each structure bounded to exactly ${n.toLocaleString('en-US')} entries and built in its own \`node --expose-gc\` process. Figure: growth of \`heapUsed\` from before building to after (GC forced 4 times each side), divided by the entry count. Keys and values are created in the loop and held only by the structure, so every row pays for one key string and one value object per entry; "Map" shows that floor.`,
      "Off-heap is the growth of `arrayBuffers` (typed arrays), which `heapUsed` leaves out; lru-cache allocates its index arrays off-heap up front, identically for both (cachekit's memory store is built on it). cachekit is filled through `await cache.set(key, value)`.",
      `cachekit is configured as applications configure it: \`createCache({ store: memoryStore({ maxEntries }), prefix: '${PREFIX}', ttl: '${TTL}' })\` (so each entry holds its expiry and its key carries the prefix); lru-cache gets the same TTL (\`ttl: ${TTL_MS}\`, which makes it allocate its TTL arrays) and has no prefix notion. The "best case" row (no prefix, no TTL) is the earlier configuration, kept for comparison; no target uses it.`,
      '',
      table(
        ['Structure', 'heapUsed growth', 'bytes / entry', '÷ lru-cache', 'off-heap growth', 'build time'],
        rows,
      ),
    ].join('\n')
    return { body, targets }
  },
})
