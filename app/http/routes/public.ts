/**
 * Public pages (seed 3's shape): readable without logging in, the same for everyone, so they
 * are what an HTTP page cache serves. When `cachekit/http` lands, its middleware goes on this
 * router (`router.use(pageCache(...))`, an hour with ETag/304) and the merchant writes call its
 * invalidation; until then these pages read through the data cache.
 */
import type { Cache } from 'cachekit'
import { Router } from 'express'
import type { Services } from '../../services/context.js'
import { html, layout } from '../views.js'

export function publicRoutes(s: Services, cache: Cache = s.cache): Router {
  const router = Router()
  router.get('/public/merchants', async (req, res) => {
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
