/**
 * Operations: health, and the counters the load test reads (database queries, cache stats,
 * requests). `/metrics` (`cachekit/prometheus`) and the admin page under `/admin/cache`
 * (`cachekit/admin`, staff only) mount here when those doors land.
 */
import { Router } from 'express'
import type { Services } from '../../services/context.js'

export function opsRoutes(s: Services): Router {
  const router = Router()
  // Requests answered, for `/ops/stats` (queries per request).
  const counters = { requests: 0, reads: 0 }
  router.use((req, res, next) => {
    if (!req.path.startsWith('/ops/')) {
      res.once('finish', () => {
        counters.requests++
        if (req.method === 'GET') counters.reads++
      })
    }
    next()
  })
  router.get('/healthz', (_req, res) => void res.json({ ok: true }))
  // Loopback or staff only: the figures say how busy the app is.
  router.get('/ops/stats', (req, res) => {
    const peer = req.socket.remoteAddress ?? ''
    if (
      !(req.user?.role === 'staff' || peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1')
    ) {
      return void res.status(403).json({ error: 'staff only' })
    }
    const stats = s.cache.stats()
    res.json({
      requests: counters.requests,
      reads: counters.reads,
      dbQueries: s.db.queries,
      dbReadQueries: s.db.queries - s.db.txQueries,
      cache: {
        store: s.cacheDescription.store,
        hits: stats.hits,
        misses: stats.misses,
        hitRate: stats.hitRate,
        errors: stats.errors,
      },
      locks: s.locks.stats(),
    })
  })
  return router
}
