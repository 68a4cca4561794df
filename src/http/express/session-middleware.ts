import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { RequestSession, SessionMiddlewareOptions } from '../../session/index.js'
import { sessionMiddlewareCore } from '../../session/internal.js'

/** Options of {@link expressSession}: the sessions, the cookie's name and attributes. */
export type ExpressSessionOptions = SessionMiddlewareOptions

/**
 * cachekit's own session middleware for Express, without `express-session`: the request's session
 * is `res.locals.session` (a {@link RequestSession}). The cookie holds an unguessable 256-bit id
 * (the store holds only its keyed hash); the changes a request made are merged field by field into
 * the stored session when the response ends, before it goes out, so the next request sees them; an
 * unchanged session is touched at most once per `touchAfter`; a destroyed session never comes back.
 * A response streamed with `res.write` before `end` has sent its headers already: it is saved at
 * `end` too, but its cookie can only be renewed by a later request.
 */
export function expressSession(options: ExpressSessionOptions): RequestHandler {
  const begin = sessionMiddlewareCore(options)
  return function cachekitSession(req: Request, res: Response, next: NextFunction): void {
    begin(req.headers.cookie).then((run) => {
      res.locals['session'] = run.session
      const end = res.end
      let ending = false
      res.end = function endAfterSave(this: Response, ...args: unknown[]) {
        if (ending) return (end as (...a: unknown[]) => Response).apply(this, args)
        ending = true
        run.commit().then(
          (cookie) => {
            if (cookie !== undefined && !res.headersSent) res.append('Set-Cookie', cookie)
            ;(end as (...a: unknown[]) => Response).apply(res, args)
          },
          (error: unknown) => {
            // Nothing was saved: the client must not believe its change landed.
            res.end = end
            if (res.headersSent) res.destroy(error instanceof Error ? error : undefined)
            else next(error)
          },
        )
        return res
      } as Response['end']
      next()
    }, next)
  }
}
