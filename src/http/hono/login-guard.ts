import type { Context, MiddlewareHandler } from 'hono'
import { createLoginGuardDecider, type LoginGuardMiddlewareOptions } from '../login-guard-decider.js'

/** {@link loginGuard} options for Hono: `username` takes the context. */
export interface HonoLoginGuardOptions extends LoginGuardMiddlewareOptions<Context> {
  /** The socket peer's address. Default: `@hono/node-server`'s `c.env.incoming.socket`. */
  readonly peer?: (c: Context) => string | undefined
}

interface NodeBindings {
  readonly incoming?: { readonly socket?: { readonly remoteAddress?: string } }
}

/**
 * Hono login guard middleware for a login route: `app.post('/login', loginGuard({ guard, username:
 * async (c) => (await c.req.json()).username }), handler)`. Locked attempts get 429 with
 * `Retry-After`; the handler's status records the attempt (4xx a failure, below 400 a success).
 */
export function loginGuard(options: HonoLoginGuardOptions): MiddlewareHandler {
  const decide = createLoginGuardDecider<Context>(options, {
    peer: options.peer ?? ((c) => (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress),
    header: (c, name) => c.req.header(name),
  })
  return async function cachekitLoginGuard(c, next) {
    const verdict = await decide(c)
    if (verdict.action === 'reject') {
      for (const [name, value] of Object.entries(verdict.headers)) c.header(name, value)
      return c.body(verdict.body, verdict.status)
    }
    await next()
    // Recorded before the response goes out, so the client's next attempt sees it.
    await verdict.settle(c.res.status)
    return undefined
  }
}
