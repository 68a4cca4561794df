import type { NextFunction, Request, Response } from 'express'
import { createLoginGuardDecider, type LoginGuardMiddlewareOptions } from '../login-guard-decider.js'

/** {@link loginGuard} options for Express: `username` and `outcome` take the Express request. */
export type ExpressLoginGuardOptions = LoginGuardMiddlewareOptions<Request>

/**
 * Express login guard for a login route, before its handler (and after the body parser that
 * `username` reads): `app.post('/login', express.json(), loginGuard({ guard, username: (req) =>
 * req.body?.username }), handler)`. Locked attempts get 429 with `Retry-After`; the handler's
 * status records the attempt (4xx a failure, below 400 a success).
 */
export function loginGuard(options: ExpressLoginGuardOptions) {
  const decide = createLoginGuardDecider<Request>(options, {
    peer: (req) => req.socket.remoteAddress,
    header: (req, name) => req.get(name),
  })
  return function cachekitLoginGuard(req: Request, res: Response, next: NextFunction): void {
    decide(req)
      .then((verdict) => {
        if (verdict.action === 'reject') {
          res.status(verdict.status).set(verdict.headers).send(verdict.body)
          return
        }
        // Express offers no hook between the handler and the send: the attempt is recorded once
        // the response has gone out.
        res.once('finish', () => void verdict.settle(res.statusCode))
        res.once('close', () => void verdict.settle(0))
        next()
      })
      .catch(next)
  }
}
