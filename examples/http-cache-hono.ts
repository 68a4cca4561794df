/**
 * Page caching in a Hono app on @hono/node-server (Hono's own `cache` middleware needs the Web
 * Cache API, which Node lacks), plus a cached HTML fragment (Django's `{% cache %}` tag), and the
 * events the cache publishes on node:diagnostics_channel. The blog is cached by a middleware
 * (`app.use`), the about page by wrapping its handler (`cachePage`, like Django's `cache_page` on
 * one view): the same rules, and a fresh hit in memory is answered without a promise. Runs on the memory store; with REDIS_URL
 * the pages live in memory over Redis.
 */
import diagnostics from 'node:diagnostics_channel'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createCache, memoryStore } from 'cachekit'
import { cachePage, cacheResponses } from 'cachekit/hono'
import { fragment, HTTP_CACHE_CHANNEL, type HttpCacheEvent, responseCache } from 'cachekit/http'
import { redisStore } from 'cachekit/redis'
import { Hono } from 'hono'

const url = process.env['REDIS_URL']
const cache = createCache({
  ...(url ? { tiers: [memoryStore(), redisStore({ url })] as const } : { store: memoryStore() }),
  prefix: `example-http-hono-${process.pid}`,
})
const pages = responseCache({ cache, ttl: '5m', tags: () => ['blog'] })

const counts: Record<string, number> = {}
diagnostics.subscribe(HTTP_CACHE_CHANNEL, (message) => {
  const event = message as HttpCacheEvent
  const name = event.reason ? `${event.type}:${event.reason}` : event.type
  counts[name] = (counts[name] ?? 0) + 1
})

const app = new Hono()
app.use('/blog/*', cacheResponses(pages))
app.get('/blog/:slug', async (c) => {
  // The sidebar is its own fragment, cached per user for 500 s, whatever page it sits in.
  const user = c.req.header('x-user') ?? 'guest'
  const sidebar = await fragment(cache, 'sidebar', [user], () => `<aside>hi ${user}</aside>`, { ttl: '500s' })
  return c.html(`<article>${c.req.param('slug')}</article>${sidebar}`)
})

// One route cached where it is declared: cachePage wraps its handler.
app.get(
  '/about',
  cachePage(pages, (c) => c.html('<p>about us</p>')),
)

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const show = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(base + path, { headers })
  await res.text()
  console.log(`${path} -> ${res.status} ${res.headers.get('x-cache')} (${res.headers.get('cache-status')})`)
  return res
}
const first = await show('/blog/hello') // MISS
await show('/blog/hello') // HIT, with Age
await show('/blog/hello', { 'if-none-match': first.headers.get('etag') ?? '' }) // 304
await show('/blog/hello', { authorization: 'Bearer t' }) // bypass: detail=authorization
await show('/about') // MISS
await show('/about') // HIT, answered by cachePage without a promise
console.log('events:', counts)

server.close()
await cache.close()
