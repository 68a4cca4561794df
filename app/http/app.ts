/**
 * The Express 5 application: sessions in the cache, the signed-in user, throttling per role, then
 * the routers. Each router is one seed's system (see app/README.md).
 */
import { cacheAccounting, rateLimit } from 'cachekit/express'
import { expressSessionStore } from 'cachekit/session'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import type { Services } from '../services/context.js'
import { FencedOutError, FinanceError } from '../services/finance.js'
import { authRoutes } from './routes/auth.js'
import { financeRoutes } from './routes/finance.js'
import { liveRoutes } from './routes/live.js'
import { opsRoutes } from './routes/ops.js'
import { publicRoutes } from './routes/public.js'
import { reportRoutes } from './routes/reports.js'
import './types.js'

export function createHttpApp(s: Services, log: (line: string) => void): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' }))
  app.use(
    session({
      store: expressSessionStore(s.sessions),
      secret: s.config.sessionSecret,
      name: 'sid',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 2 * 3600_000, httpOnly: true, sameSite: 'lax' },
    }),
  )
  app.use(function currentUser(req: Request, _res: Response, next: NextFunction) {
    const { userId, username, role } = req.session
    if (userId && username && role) req.user = { id: Number(userId), username, role }
    next()
  })
  app.use(opsRoutes(s))
  // Throttling (seed 1): anonymous 100/hour per IP, users 1000/hour, staff more (seed 4's per-role limits).
  app.use(
    rateLimit({
      limiter: s.limiter,
      scope: (req) => (req.user ? (req.user.role === 'staff' ? 'staff' : 'user') : 'anon'),
      key: 'user',
      user: (req) => (req.user ? String(req.user.id) : undefined),
      skip: (req) =>
        req.path === '/healthz' || req.path.startsWith('/ops/') || req.path.startsWith('/events/'),
    }),
  )
  // The seed's middleware: is there a superuser at all? (cached: one cache read per page)
  app.use(async function superuserCheck(req: Request, res: Response, next: NextFunction) {
    if (req.method === 'GET' && !req.path.startsWith('/api/') && !req.path.startsWith('/events/')) {
      if (!(await s.finance.hasSuperuser())) res.set('X-Setup-Needed', 'no superuser yet')
    }
    next()
  })
  // Seed 2: X-Cache-Hits / X-Cache-Misses / X-Response-Time on the API and the reports.
  app.use(['/api', '/reports'], cacheAccounting())
  app.use(authRoutes(s, log))
  app.use(publicRoutes(s))
  app.use(liveRoutes(s))
  app.use(reportRoutes(s))
  app.use(financeRoutes(s))
  app.use(function errors(error: unknown, req: Request, res: Response, _next: NextFunction) {
    if (error instanceof FencedOutError) return void res.status(409).json({ error: error.message })
    if (error instanceof FinanceError) {
      if (req.originalUrl.startsWith('/api/')) return void res.status(400).json({ error: error.message })
      return void res.status(400).type('text').send(error.message)
    }
    log(
      `error on ${req.method} ${req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    res.status(500).json({ error: 'internal error' })
  })
  return app
}
