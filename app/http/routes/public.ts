/**
 * Public pages (seed 3's shape): readable without logging in, the same for everyone, served by
 * the HTTP response cache (`cachekit/http`, Django's `cache_page`): an hour on the server, ETag and
 * 304 for browsers, never for a request that carries the session cookie. A merchant write would
 * call `pages.invalidate('merchants')`.
 */
import type { Cache } from 'cachekit'
import { cacheResponses } from 'cachekit/express'
import { responseCache } from 'cachekit/http'
import { Router } from 'express'
import type { Services } from '../../services/context.js'
import { html, layout } from '../views.js'

export function publicRoutes(s: Services, cache: Cache = s.cache): Router {
  const router = Router()
  const pages = responseCache({ cache, ttl: '1h', cacheControl: 'no-cache', tags: () => ['merchants'] })
  router.get('/public/merchants', cacheResponses(pages), async (req, res) => {
    const merchants = await cache.getOrSet('public:merchants', () => s.queries.merchants(), {
      ttl: '1h',
      tags: ['merchants'],
    })
    const body = html`<h1>Our merchants</h1><p class="note">${merchants.length} merchants around Berlin.</p>
<table><tr><th>Merchant</th><th class="num">Longitude</th><th class="num">Latitude</th></tr>${merchants.map(
      (m) =>
        html`<tr><td>${m.name}</td><td class="num">${m.lon.toFixed(4)}</td><td class="num">${m.lat.toFixed(4)}</td></tr>`,
    )}</table>`
    res.type('html').send(layout('Merchants', req.user, body))
  })
  return router
}
