/**
 * A cache in SQLite: entries survive a restart, expire on read, and the table stays bounded. The
 * same code runs on PostgreSQL or MySQL/MariaDB with `sqlStore({ url: process.env.DATABASE_URL })`.
 * Run it with `npx tsx examples/sql.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCache } from 'cachekit'
import { sqlStore } from 'cachekit/sql'

const dir = mkdtempSync(join(tmpdir(), 'cachekit-example-'))
const filename = join(dir, 'cache.db')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

try {
  // The tables are created on first use (or ahead of time with `await store.migrate()`).
  const store = sqlStore({ dialect: 'sqlite', filename, maxEntries: 1000 })
  const cache = createCache({ store, prefix: 'hlvm', ttl: '5m' })
  console.log(`SQLite cache in ${filename}`)

  // Values come back exactly as they went in: Dates, Maps, BigInts...
  await cache.set(
    'user:42',
    { name: 'Ada', joined: new Date('2024-01-15'), balance: 1234567890123n },
    {
      tags: ['user:42'],
    },
  )
  console.log('user:42 ->', await cache.get('user:42'))

  // Counters are atomic in the database, across every process sharing the file.
  await Promise.all(Array.from({ length: 20 }, () => cache.incr('page_views')))
  console.log('page_views after 20 concurrent incr:', await cache.get('page_views'))

  // Expiry is checked on every read; the prune removes expired rows from the table.
  await cache.set('flash', 'gone soon', { ttl: '50ms' })
  await sleep(80)
  console.log('flash after its TTL:', await cache.get('flash'))
  console.log('expired rows pruned:', await store.prune())

  // add() is atomic: only one caller gets the lock.
  const winners = await Promise.all(
    Array.from({ length: 5 }, (_, i) => cache.add('lock:report', i, { ttl: '1m' })),
  )
  console.log('add() winners among 5 callers:', winners.filter(Boolean).length)

  await cache.setMany({ 'course:1': 'Go', 'course:2': 'Rust', 'course:3': 'TypeScript' })
  const courses: string[] = []
  for await (const key of cache.keys('course:*')) courses.push(key)
  console.log('keys course:* ->', courses.sort().join(', '))
  console.log('deleteByTag user:42 ->', await cache.deleteByTag('user:42'))
  await cache.close()

  // A new store on the same file: the entries are still there.
  const reopened = createCache({ store: sqlStore({ dialect: 'sqlite', filename }), prefix: 'hlvm' })
  console.log('after reopening, course:3 ->', await reopened.get('course:3'))
  console.log('stats:', reopened.stats())
  await reopened.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
