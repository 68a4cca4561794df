/**
 * Logging in (seeds 1 and 4): a password behind the login guard (lockout after 5 failures per
 * user and IP, django-axes style) and the `login` throttle (5/min per IP), or a one-time PIN valid
 * 5 minutes and usable once. Sessions live in the cache (`cachekit/session`); the id is renewed
 * on login.
 */
import { rateLimit } from 'cachekit/express'
import { clientIp, RateLimitedError, retryAfterSeconds } from 'cachekit/ratelimit'
import { type Request, type Response, Router } from 'express'
import type { Services } from '../../services/context.js'
import type { User } from '../../services/finance.js'
import { verifyPassword } from '../../services/passwords.js'
import { html, layout } from '../views.js'

export function authRoutes(s: Services, log: (line: string) => void): Router {
  const router = Router()
  const loginThrottle = rateLimit({ limiter: s.limiter, scope: 'login' })
  const pinThrottle = rateLimit({ limiter: s.limiter, scope: 'pin' })

  const signIn = (req: Request, user: User) =>
    new Promise<void>((resolve, reject) =>
      req.session.regenerate((error) => {
        if (error) return reject(error)
        req.session.userId = String(user.id)
        req.session.username = user.username
        req.session.role = user.role
        resolve()
      }),
    )

  const answer = (req: Request, res: Response, status: number, message: string, extra = '') => {
    if (req.originalUrl.startsWith('/api/')) {
      res.status(status).json(status < 400 ? { ok: true } : { error: message })
    } else {
      res
        .status(status)
        .type('html')
        .send(loginPage(message, status >= 400, extra))
    }
  }

  async function passwordLogin(req: Request, res: Response) {
    const username = String(req.body?.username ?? '').trim()
    const attempt = { username, ip: clientIp(req) ?? 'unknown' }
    const check = await s.guard.check(attempt)
    if (check.locked) {
      const retry = retryAfterSeconds(check.retryAfterMs)
      if (retry) res.set('Retry-After', retry)
      return answer(
        req,
        res,
        429,
        'Too many failed logins: this account is locked for this address. Try again later.',
      )
    }
    const user = await s.queries.userByName(username)
    if (!user || !(await verifyPassword(String(req.body?.password ?? ''), user.passwordHash))) {
      await s.guard.fail(attempt)
      return answer(req, res, 401, 'Wrong username or password.')
    }
    await s.guard.succeed(attempt)
    await signIn(req, user)
    if (req.originalUrl.startsWith('/api/'))
      return void res.json({ ok: true, user: { id: user.id, username: user.username, role: user.role } })
    res.redirect(303, '/')
  }

  router.get('/login', (_req, res) => void res.type('html').send(loginPage()))
  router.post('/login', loginThrottle, passwordLogin)
  router.post('/api/login', loginThrottle, passwordLogin)

  // One-time PIN (seed 4): issued for a user, printed to the log in development, valid 5 minutes, once.
  async function requestPin(req: Request, res: Response) {
    const username = String(req.body?.username ?? '').trim()
    const user = await s.queries.userByName(username)
    if (user) {
      try {
        const pin = await s.pins.issue(`user:${user.id}`)
        if (s.config.printPins) log(`PIN for ${user.username}: ${pin} (valid 5 minutes, once)`)
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error
        return answer(
          req,
          res,
          429,
          'A PIN was sent moments ago: wait a little before asking again.',
          username,
        )
      }
    }
    // The same answer whether the user exists or not.
    return answer(
      req,
      res,
      200,
      'If this user exists, a PIN was sent (in development: see the server log).',
      username,
    )
  }
  async function pinLogin(req: Request, res: Response) {
    const username = String(req.body?.username ?? '').trim()
    const user = await s.queries.userByName(username)
    const ok =
      user !== undefined && (await s.pins.verify(`user:${user.id}`, String(req.body?.pin ?? '').trim()))
    if (!user || !ok) return answer(req, res, 401, 'Wrong or expired PIN.', username)
    await signIn(req, user)
    if (req.originalUrl.startsWith('/api/'))
      return void res.json({ ok: true, user: { id: user.id, username: user.username, role: user.role } })
    res.redirect(303, '/')
  }
  router.post('/login/pin/request', pinThrottle, requestPin)
  router.post('/api/login/pin/request', pinThrottle, requestPin)
  router.post('/login/pin', loginThrottle, pinLogin)
  router.post('/api/login/pin', loginThrottle, pinLogin)

  router.post(['/logout', '/api/logout'], (req, res, next) => {
    req.session.destroy((error) => {
      if (error) return next(error)
      if (req.originalUrl.startsWith('/api/')) return void res.json({ ok: true })
      res.redirect(303, '/login')
    })
  })
  return router
}

function loginPage(message = '', error = false, pinUser = ''): string {
  const body = html`<div class="grid">
<div class="card"><h2>Log in with a password</h2>
${message ? html`<p class="${error ? 'err' : 'note'}" id="message">${message}</p>` : ''}
<form method="post" action="/login"><p><input name="username" placeholder="username" autocomplete="username" required></p>
<p><input name="password" type="password" placeholder="password" autocomplete="current-password" required></p>
<p><button>Log in</button></p></form><p class="note">Demo: <code>demo</code> / <code>demo</code>. Five failures lock the user for 15 minutes from this address.</p></div>
<div class="card"><h2>Log in with a one-time PIN</h2>
<form method="post" action="/login/pin/request"><p><input name="username" placeholder="username" value="${pinUser}" required>
<button>Send me a PIN</button></p></form>
<form method="post" action="/login/pin"><p><input name="username" placeholder="username" value="${pinUser}" required></p>
<p><input name="pin" inputmode="numeric" placeholder="6-digit PIN" autocomplete="one-time-code" required></p><p><button>Log in with PIN</button></p></form>
<p class="note">A PIN is valid 5 minutes and works once; in development it is printed in the server log.</p></div></div>`
  return layout('Log in', undefined, body)
}
