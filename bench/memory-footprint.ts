/**
 * Scenario 3: bytes per entry of 1,000,000 small entries (`user:123456` → `{ id, name }`) in
 * cachekit's memory store and in raw lru-cache, each built in its own process and measured as the
 * growth of `heapUsed` after forced GC.
 */

import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { createCache, type MutationPolicy, memoryStore } from './lib/cachekit.js'
import { type User, user, userKey } from './lib/data.js'
import { bytes, ratio, table } from './lib/format.js'
import { type Builder, type HeapDelta, probeHeap } from './lib/heap.js'
import { defineScenario, progress, ratioTarget } from './lib/scenario.js'

const cachekit =
  (mutation: MutationPolicy): Builder =>
  async (n) => {
    const cache = createCache({ store: memoryStore({ maxEntries: n, mutation }) })
    for (let i = 0; i < n; i++) await cache.set(userKey(i), user(i))
    return cache
  }

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
  'lru-cache': async (n) => {
    const lru = new LRUCache<string, User>({ max: n })
    for (let i = 0; i < n; i++) lru.set(userKey(i), user(i))
    return lru
  },
  'cachekit (default: freeze)': cachekit('freeze'),
  'cachekit (reference)': cachekit('reference'),
  'cachekit (clone)': cachekit('clone'),
}

const LRU = 'lru-cache'
const CACHEKIT = 'cachekit (default: freeze)'

export default defineScenario({
  title: '3. Memory footprint: bytes per entry, 1,000,000 small entries',
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
      ratioTarget('cachekit bytes per entry ÷ lru-cache', perEntry(CACHEKIT) / perEntry(LRU), '<=', 1.5),
    ]
    const body = [
      `${n.toLocaleString('en-US')} entries \`${userKey(23_456)}\` → \`${JSON.stringify(user(23_456))}\`, each structure bounded to exactly ${n.toLocaleString('en-US')} entries and built in its own \`node --expose-gc\` process. Figure: growth of \`heapUsed\` from before building to after (GC forced 4 times each side), divided by the entry count. Keys and values are created in the loop and held only by the structure, so every row pays for one key string and one value object per entry; "Map" shows that floor.`,
      "Off-heap is the growth of `arrayBuffers` (typed arrays), which `heapUsed` leaves out; lru-cache allocates its index arrays off-heap up front, identically for both (cachekit's memory store is built on it). cachekit is filled through `await cache.set(key, value)`.",
      '',
      table(
        ['Structure', 'heapUsed growth', 'bytes / entry', '÷ lru-cache', 'off-heap growth', 'build time'],
        rows,
      ),
    ].join('\n')
    return { body, targets }
  },
})
