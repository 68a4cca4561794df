/**
 * Operations: health, the counters the load test reads (database queries, cache stats,
 * requests), and the admin page under `/admin/cache` (`cachekit/admin`, staff only): the caches,
 * their keys (search, delete by pattern), the throttles and the login guard (unlock).
 * `/metrics` (`cachekit/prometheus`) for the scraper, loopback or staff only.
 */
import { createHash } from 'node:crypto'
import { adminPage } from 'cachekit/express'
import { metricsHandler, registerMetrics } from 'cachekit/prometheus'
import { type NextFunction, type Request, type Response, Router } from 'express'
import { Registry } from 'prom-client'
import type { Services } from '../../services/context.js'

const ACTOR_HEADER = 'x-refapp-staff'

/** Staff only; a visitor who is not signed in goes to the login page. */
function staffPage(req: Request, res: Response, next: NextFunction): void {
  if (!req.user) return void res.redirect(303, '/login')
  if (req.user.role !== 'staff') return void res.status(403).type('text').send('staff only')
  // Who acts, for the lockout log of unlocks: set here, never taken from the client.
  req.headers[ACTOR_HEADER] = req.user.username
  next()
}

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
  const admin = adminPage({
    caches: { main: s.cache, sessions: s.sessionCache },
    limiters: { throttle: s.limiter },
    guards: { login: s.guard },
    // The Express layer (staffPage) already let only staff through.
    authorize: () => true,
    basePath: '/admin/cache',
    // The same on every instance, so a form served by one is accepted by another.
    secret: createHash('sha256').update(`admin:${s.config.sessionSecret}`).digest('hex'),
    // Tie CSRF tokens to the session cookie.
    csrfBinding: (request) => /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1],
    actor: (request) => request.headers.get(ACTOR_HEADER) ?? undefined,
    title: 'cachekit finance: cache admin',
  })
  s.onClose(() => admin.close())
  router.use('/admin/cache', staffPage, admin)
  const registry = new Registry()
  registerMetrics({ registry, caches: [s.cache, s.sessionCache] })
  const metrics = metricsHandler(registry)
  router.get('/metrics', (req, res) => {
    if (!trusted(req)) return void res.status(403).json({ error: 'staff only' })
    metrics(req, res)
  })
  router.get('/healthz', (_req, res) => void res.json({ ok: true }))
  // Loopback or staff only: the figures say how busy the app is.
  router.get('/ops/stats', (req, res) => {
    if (!trusted(req)) return void res.status(403).json({ error: 'staff only' })
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

/** Loopback (the scraper, the load test) or a staff user. */
function trusted(req: Request): boolean {
  const peer = req.socket.remoteAddress ?? ''
  return req.user?.role === 'staff' || peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1'
}
