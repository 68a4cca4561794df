/**
 * Page caching in an Express app (Django's `cache_page`, without its faults): a product page
 * cached for 5 minutes with an hour of grace, ETag/304 from the cache, a logged-in page that is
 * never shared, and invalidation by tag when the product changes. Runs on the memory store; with
 * REDIS_URL the pages live in memory over Redis, shared by every instance of the app.
 */
import type { AddressInfo } from 'node:net'
import { createCache, memoryStore } from 'cachekit'
import { cacheResponses } from 'cachekit/express'
import { responseCache } from 'cachekit/http'
import { redisStore } from 'cachekit/redis'
import express from 'express'

const url = process.env['REDIS_URL']
const cache = createCache({
  ...(url ? { tiers: [memoryStore(), redisStore({ url })] as const } : { store: memoryStore() }),
  prefix: `example-http-express-${process.pid}`,
})
const pages = responseCache({
  cache,
  ttl: '5m', // how long the server keeps a page
  grace: '1h', // then served stale while one request refreshes it
  cacheControl: 'no-cache', // browsers revalidate every time (and get a 304 from the cache)
  tags: (req) => [`product:${req.url.split('/')[2]}`],
})

let renders = 0
const app = express()
app.get('/products/:id', cacheResponses(pages), (req, res) => {
  renders++
  res.type('html').send(`<h1>Product ${req.params['id']}</h1><p>rendered ${renders} time(s)</p>`)
})
app.get('/account', cacheResponses(pages), (_req, res) => {
  // A response that sets a cookie is never stored (Cache-Status says why).
  res.cookie('seen', '1').send('your account')
})

const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const show = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(base + path, { headers })
  await res.text()
  console.log(
    `${path.padEnd(14)} ${res.status} ${res.headers.get('x-cache')}  ${res.headers.get('cache-status')}`,
  )
  return res
}

const first = await show('/products/7') // MISS: rendered and stored
await show('/products/7') // HIT
await show('/products/7', { 'if-none-match': first.headers.get('etag') ?? '' }) // 304 from the cache
await show('/account') // bypass: detail=set-cookie
await pages.invalidate('product:7') // e.g. after the product was edited
await show('/products/7') // MISS again, with a new ETag
console.log(`the handler rendered the product page ${renders} times`)

server.close()
await cache.close()
