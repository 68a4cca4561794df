/**
 * Live features (seed 4): balance updates pushed over Server-Sent Events from the user's channel
 * (every app process publishes to it through the shared store), and merchants near a point from
 * the geo index.
 */
import { channelEvents } from 'cachekit/express'
import { Router } from 'express'
import type { Services } from '../../services/context.js'
import { requireUser } from '../types.js'
import { html, layout } from '../views.js'

export function liveRoutes(s: Services): Router {
  const router = Router()
  router.get('/events/balances', requireUser, (req, res) => {
    channelEvents(s.balances(req.user!.id), { heartbeat: '15s' })(req, res)
  })

  const near = async (query: Record<string, unknown>) => {
    const lon = Number(query['lon'] ?? 13.405)
    const lat = Number(query['lat'] ?? 52.52)
    const km = Math.min(50, Number(query['km'] ?? 2))
    const found = await s.merchants.near({ lon, lat }, km, { unit: 'km', limit: 20 })
    return { lon, lat, km, merchants: found.map((m) => ({ id: Number(m.id), distanceKm: m.distance })) }
  }
  router.get('/api/merchants/near', requireUser, async (req, res) => void res.json(await near(req.query)))
  router.get('/merchants', requireUser, async (req, res) => {
    const result = await near(req.query)
    const body = html`<h1>Merchants near a point</h1><form><input name="lon" value="${result.lon}"> <input name="lat" value="${result.lat}">
<input name="km" value="${result.km}"> km <button>Search</button></form>
<table><tr><th>Merchant</th><th class="num">Distance (km)</th></tr>${result.merchants.map(
      (m) => html`<tr><td>Merchant ${m.id}</td><td class="num">${m.distanceKm}</td></tr>`,
    )}</table>`
    res.type('html').send(layout('Merchants', req.user, body))
  })
  return router
}
