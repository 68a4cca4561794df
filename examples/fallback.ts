/**
 * Redis with a SQL fallback, the "fall back to the database cache" setup Django apps build by
 * hand: here Redis is not there at all (port 1), so after its first failure the cache keeps working from SQLite, and
 * when Redis comes back the outage's writes are cleared out of both stores.
 * Run: npx tsx examples/fallback.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCache } from 'cachekit'
import { redisStore } from 'cachekit/redis'
import { sqlStore } from 'cachekit/sql'

const dir = mkdtempSync(join(tmpdir(), 'cachekit-fallback-'))
const cache = createCache({
  store: redisStore({ url: 'redis://127.0.0.1:1', timeout: 100, onLog: () => {} }),
  fallback: sqlStore({ dialect: 'sqlite', filename: join(dir, 'fallback.db') }),
  prefix: 'app',
  ttl: '5m',
})

const started = performance.now()
await cache.set('settings', { theme: 'dark' })
console.log(`set with Redis down: done in ${(performance.now() - started).toFixed(0)} ms (went to SQLite)`)
console.log('get:', await cache.get('settings'))

let queries = 0
const tree = await cache.getOrSet('category_tree:42', async () => {
  queries++
  return { categories: ['Food', 'Rent'] }
})
console.log(
  'getOrSet:',
  tree,
  '| again:',
  await cache.getOrSet('category_tree:42', async () => ++queries),
  '| queries:',
  queries,
)
console.log('store:', JSON.stringify(cache.store.stats?.()))

await cache.close()
rmSync(dir, { recursive: true, force: true })
