/**
 * The quickstart: a cache on the embedded defaults (memory store), used the way a web backend
 * uses one: per-entity keys with TTLs, getOrSet around a slow query, invalidation on write,
 * tags, counters, and the hit rate at the end. Run it with `npm start`.
 */
import { createCache, key, memoryStore } from 'cachekit'

const cache = createCache({ store: memoryStore({ maxEntries: 1000 }), prefix: 'hlvm', ttl: '5m' })

// A "slow query" that builds a user's category tree.
let queries = 0
async function buildCategoryTree(userId: number, type: 'expense' | 'income') {
  queries++
  await new Promise((resolve) => setTimeout(resolve, 50))
  return {
    userId,
    type,
    children: [{ name: 'Food', children: [{ name: 'Groceries' }] }],
    builtAt: new Date(),
  }
}

const treeKey = (userId: number) => key('category_tree', { type: 'expense', user: userId, depth: 3 })

console.log('store key:', cache.makeKey(treeKey(42)))

// 100 requests arrive at once on a cold key: one query runs, all 100 get its result.
let started = performance.now()
await Promise.all(
  Array.from({ length: 100 }, () =>
    cache.getOrSet(treeKey(42), () => buildCategoryTree(42, 'expense'), { ttl: '5m', tags: ['user:42'] }),
  ),
)
console.log(`cold: 100 concurrent requests, ${queries} query, ${(performance.now() - started).toFixed(1)} ms`)

// The next requests are hits: no query, microseconds each.
started = performance.now()
for (let i = 0; i < 10_000; i++) await cache.getOrSet(treeKey(42), () => buildCategoryTree(42, 'expense'))
const perHit = ((performance.now() - started) * 1000) / 10_000
console.log(`warm: 10,000 requests, still ${queries} query, ${perHit.toFixed(2)} µs per request`)

// The value comes back exactly as it went in, Date included.
const tree = await cache.get<Awaited<ReturnType<typeof buildCategoryTree>>>(treeKey(42))
console.log('builtAt is a Date:', tree?.builtAt instanceof Date)

// A write invalidates everything tagged with the user.
await cache.set(key('user_stats', { user: 42 }), { balance: 1200n }, { tags: ['user:42'] })
console.log('invalidated on write:', await cache.deleteByTag('user:42'), 'entries')
await cache.getOrSet(treeKey(42), () => buildCategoryTree(42, 'expense'))
console.log(`after invalidation: ${queries} queries`)

// Counters, as for throttling or view counts.
await cache.incr('views:course:7')
console.log('views:', await cache.incr('views:course:7', 10))

const { hits, misses, hitRate, coalesced, factoryCalls } = cache.stats()
console.log({ hits, misses, hitRate: Number(hitRate.toFixed(4)), coalesced, factoryCalls })
await cache.close()
