/**
 * The admin page in an Express app: mounted under /admin, let in only with the right bearer token
 * (`authorize`), showing the cache's stats, its keys and (with REDIS_URL) the Redis server. Starts
 * on a free port, fetches the overview as an authorized client would, prints a line, and exits.
 * Open it in a browser by adding `await new Promise(() => {})` before the shutdown and visiting
 * http://127.0.0.1:<port>/admin with an `Authorization: Bearer <token>` header (or sign in through
 * your own login, as `authorize` decides).
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createCache, memoryStore } from 'cachekit'
import { adminPage } from 'cachekit/express'
import { createRateLimiter } from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'
import express from 'express'

const store = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : memoryStore()
const cache = createCache({ store, prefix: 'example-admin', ttl: '10m' })
const limiter = createRateLimiter({ store: memoryStore(), rules: { api: '100/min' } })
await cache.ready()

// The token an operator presents; in production, check your app's own session and role instead.
const token = process.env['ADMIN_TOKEN'] ?? randomBytes(16).toString('hex')
const admin = adminPage({
  caches: { main: cache, users: cache.namespace('user') },
  limiters: { api: limiter },
  authorize: (request) => request.headers.get('authorization') === `Bearer ${token}`,
  basePath: '/admin',
})

const app = express()
app.use('/admin', admin)
app.get('/user/:id', async (req, res) => {
  const id = req.params.id
  res.json(await cache.namespace('user').getOrSet(id, () => ({ id, name: `User ${id}` })))
})
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

// Some traffic, so the stats have something to say.
for (const id of ['1', '2', '1', '3', '1']) await fetch(`${base}/user/${id}`)

const refused = await fetch(`${base}/admin`)
const overview = await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${token}` } })
const html = await overview.text()
const hits = /data-figure="main\.hits">([\d,]+)</.exec(html)?.[1]
console.log(
  `admin page: without the token ${refused.status}, with it ${overview.status}; ` +
    `cache "main" shows ${hits} hits; CSP: ${overview.headers.get('content-security-policy')?.split(';')[0]}`,
)

await admin.close()
server.closeAllConnections()
await new Promise((resolve) => server.close(resolve))
await limiter.close()
await cache.close()
