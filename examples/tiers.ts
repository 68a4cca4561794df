/**
 * Two app instances, each with its own in-process L1 over one shared Redis (L2): a write on one
 * reaches the other's L1 over pub/sub, and a cold key is computed once across both.
 * Run: REDIS_URL=redis://127.0.0.1:6379/0 npx tsx examples/tiers.ts
 */
import { createCache, memoryStore } from 'cachekit'
import { redisStore } from 'cachekit/redis'

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379/0'
const prefix = `tiers-example-${process.pid}`
const instance = () =>
  createCache({ tiers: [memoryStore({ maxEntries: 1000 }), redisStore({ url })], prefix, ttl: '5m' })
const [a, b] = [instance(), instance()]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
await sleep(100) // both subscribed to the invalidation bus

await a.set('settings', { theme: 'light' })
console.log('b reads (from Redis, then its L1):', await b.get('settings'), await b.get('settings'))
await a.set('settings', { theme: 'dark' })
await sleep(20)
console.log('after a wrote, b reads:', await b.get('settings'))

let computed = 0
const buildTree = async () => {
  computed++
  await sleep(100)
  return { categories: ['Food', 'Rent'] }
}
await Promise.all([
  ...Array.from({ length: 50 }, () => a.getOrSet('category_tree:42', buildTree)),
  ...Array.from({ length: 50 }, () => b.getOrSet('category_tree:42', buildTree)),
])
console.log('100 concurrent getOrSet on two instances, factory calls:', computed)

await a.clear()
await a.close()
await b.close()
