/**
 * The Redis store as a production app uses it: REDIS_URL, a key prefix, a default
 * TTL, invalidation by pattern and tag, and a Redis that dies without taking the app down
 * (onError: 'ignore', Django's IGNORE_EXCEPTIONS). Run: REDIS_URL=redis://127.0.0.1:6379/0 npx tsx examples/redis.ts
 */
import { createCache } from 'cachekit'
import { redisOptionsFromEnv, redisStore } from 'cachekit/redis'

// CACHE_URL, REDIS_URL, REDIS_LOCATION or VALKEY_HOST/VALKEY_PORT, as the apps configure it.
const options = redisOptionsFromEnv(process.env) ?? { url: 'redis://127.0.0.1:6379/0' }
const store = redisStore({ ...options, timeout: 100 })
const cache = createCache({ store, prefix: `example-${process.pid}`, ttl: '5m' })
// Before serving: wait for the first connection (bounded by connectTimeout, 2 s by default; a
// typed E_STORE_UNAVAILABLE after that). Calls made earlier would wait for it too, once.
await cache.ready()
console.log('store state:', store.state)

await cache.set('user_accounts:42:checking', {
  balance: 1200n,
  currency: 'RUB',
  opened: new Date('2020-01-01'),
})
await cache.set('user_accounts:42:savings', {
  balance: 5000n,
  currency: 'RUB',
  opened: new Date('2021-06-01'),
})
await cache.set('user_stats:42', { month: '2026-11', spent: 420 }, { tags: ['user:42'] })
const checking = await cache.get<{ balance: bigint; opened: Date }>('user_accounts:42:checking')
console.log('read back:', checking, '| balance is a bigint:', typeof checking?.balance === 'bigint')
console.log('key in Redis:', cache.makeKey('user_stats:42'))

console.log('deletePattern user_accounts:42:* ->', await cache.deletePattern('user_accounts:42:*'))
console.log('deleteByTag user:42 ->', await cache.deleteByTag('user:42'))
console.log(
  'hits per counter:',
  await cache.incr('views:course:7', 1, { ttl: '1h' }),
  await cache.incr('views:course:7'),
)

const info = await store.inspect()
console.log('Redis:', { usedMemory: info.usedMemoryHuman, hitRate: info.hitRate, keys: info.dbSize })

// A Redis that is not there: calls fail within the deadline, or become misses with 'ignore'.
const deadStore = redisStore({ url: 'redis://127.0.0.1:1', onError: 'ignore', onLog: () => {} })
const down = createCache({ store: deadStore })
const started = performance.now()
console.log(
  'dead Redis, ignore:',
  await down.get('anything'),
  `(${(performance.now() - started).toFixed(0)} ms)`,
)

// Every degraded answer is counted (and published on the cachekit:degraded diagnostics channel).
const { state, ignoredErrors, degraded } = deadStore.stats()
console.log('dead Redis:', { state, ignoredErrors, degraded })

await cache.clear()
await cache.close()
await down.close()
