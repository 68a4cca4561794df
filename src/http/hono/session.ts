import type { MiddlewareHandler } from 'hono'
import type { RequestSession, SessionMiddlewareOptions } from '../../session/index.js'
import { sessionMiddlewareCore } from '../../session/internal.js'

/** Options of {@link honoSession}: the sessions, the cookie's name and attributes. */
export type HonoSessionOptions = SessionMiddlewareOptions

/** The request's session, as `c.get('session')`. Changes are saved when the handler returns. */
export type HonoSession = RequestSession

declare module 'hono' {
  interface ContextVariableMap {
    session: HonoSession
  }
}

/**
 * Session middleware for Hono over the session core. The cookie holds an unguessable 256-bit id
 * (the store holds only its keyed hash); a request's changes are merged field by field into the
 * stored session, an unchanged session is touched at most once per `touchAfter`, and a destroyed
 * session never comes back.
 */
export function honoSession(options: HonoSessionOptions): MiddlewareHandler {
  const begin = sessionMiddlewareCore(options)
  return async function cachekitSession(c, next) {
    const run = await begin(c.req.header('cookie'))
    c.set('session', run.session)
    await next()
    const cookie = await run.commit()
    if (cookie !== undefined) c.header('Set-Cookie', cookie, { append: true })
  }
}
