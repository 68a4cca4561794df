import type { Context, MiddlewareHandler } from 'hono'
import {
  createRateLimitDecider,
  type RateLimitMiddlewareOptions,
  type RequestRateLimit,
} from '../rate-limit-decider.js'

/** {@link rateLimit} options for Hono: the shared options, `peer`, and a `handler` for refusals. */
export interface HonoRateLimitOptions<S extends string = string>
  extends RateLimitMiddlewareOptions<Context, S> {
  /**
   * The socket peer's address. Default: `@hono/node-server`'s `c.env.incoming.socket`; pass one for
   * other runtimes (e.g. Bun's `server.requestIP`).
   */
  readonly peer?: (c: Context) => string | undefined
  /**
   * Answers a refused request instead of the default 429 `application/problem+json` (the
   * `RateLimit` and `Retry-After` headers are already set on `c`).
   */
  readonly handler?: (c: Context, result: RequestRateLimit) => Response | Promise<Response>
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The decision of cachekit's `rateLimit` middleware for this request, when it ran. */
    rateLimit: RequestRateLimit
  }
}

interface NodeBindings {
  readonly incoming?: { readonly socket?: { readonly remoteAddress?: string } }
}

/** Hono rate limit middleware; the decision is left on `c.get('rateLimit')`. */
export function rateLimit<S extends string>(options: HonoRateLimitOptions<S>): MiddlewareHandler {
  const decide = createRateLimitDecider(options, {
    peer: options.peer ?? ((c) => (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress),
    header: (c, name) => c.req.header(name),
  })
  return async function cachekitRateLimit(c, next) {
    const verdict = await decide(c)
    if (verdict.action === 'skip') return next()
    c.set('rateLimit', verdict.info)
    for (const [name, value] of Object.entries(verdict.headers)) c.header(name, value)
    if (verdict.action === 'pass') {
      await next()
      verdict.settle?.(c.res.status)
      return
    }
    if (options.handler) return options.handler(c, verdict.info)
    return c.body(verdict.body, verdict.status)
  }
}

export type { CacheAccountingOptions, RequestCacheCounts } from '../accounting.js'
export type { LoginOutcome } from '../login-guard-decider.js'
export type { RequestRateLimit } from '../rate-limit-decider.js'
export { cacheAccounting } from './accounting.js'
export { adminPage, type HonoAdminPage } from './admin.js'
export { type HonoLoginGuardOptions, loginGuard } from './login-guard.js'
export { cachePage, cacheResponses, type HonoCacheResponsesOptions } from './response-cache.js'
export { channelEvents } from './sse.js'
