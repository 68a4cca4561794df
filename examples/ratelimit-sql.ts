/**
 * Rate limits kept in a SQL database: two limiters on one SQLite file stand for two processes
 * sharing a PostgreSQL or MySQL/MariaDB database (`sqlStore({ url: process.env.DATABASE_URL })`,
 * the same code). Each decision is one transaction on the `<table>_rate` table, timed by the
 * database's clock. Run it with `npx tsx examples/ratelimit-sql.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRateLimiter } from 'cachekit/ratelimit'
import { sqlStore } from 'cachekit/sql'

const dir = mkdtempSync(join(tmpdir(), 'cachekit-example-'))
const filename = join(dir, 'limits.db')
// Two stores on one file: two processes, as far as the database can tell.
const stores = [sqlStore({ dialect: 'sqlite', filename }), sqlStore({ dialect: 'sqlite', filename })]

try {
  const [a, b] = stores.map((store) =>
    createRateLimiter({ store, rules: { login: '3/min', api: { limit: 2, window: '1m', blockFor: '10m' } } }),
  ) as [
    ReturnType<typeof createRateLimiter<'login' | 'api'>>,
    ReturnType<typeof createRateLimiter<'login' | 'api'>>,
  ]

  // One count for both: 3 allowed in all, whichever instance asks.
  const answers = []
  for (const limiter of [a, b, a, b]) answers.push((await limiter.consume('login', '203.0.113.7')).allowed)
  console.log('login attempts from two instances:', answers.join(' '))

  // 20 concurrent requests on both instances: exactly the limit passes.
  const burst = await Promise.all(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume('login', '198.51.100.1')),
  )
  console.log('allowed of 20 concurrent requests:', burst.filter((r) => r.allowed).length)

  // Rewards, penalties, manual blocks and resets are transactions too, seen by every instance.
  await a.reward('login', '203.0.113.7')
  console.log('after a reward on instance a, b allows:', (await b.consume('login', '203.0.113.7')).allowed)
  await b.block('login', '192.0.2.9', '1h')
  const blocked = await a.consume('login', '192.0.2.9')
  console.log(`blocked on b, refused on a for ${Math.round(blocked.retryAfterMs / 60_000)} min`)
  await a.reset('login', '192.0.2.9')
  console.log('after a reset:', (await b.consume('login', '192.0.2.9')).allowed)

  // blockFor: going over the limit blocks the key for 10 minutes.
  for (let i = 0; i < 3; i++) await a.consume('api', 'client-1')
  const held = await b.consume('api', 'client-1')
  console.log(`over the api limit: refused for ${Math.round(held.retryAfterMs / 60_000)} min`)
  console.log('stats of a:', a.stats())
} finally {
  for (const store of stores) await store.close()
  rmSync(dir, { recursive: true, force: true })
}
