import type { Context, MiddlewareHandler } from 'hono'
import { createRateLimitDecider, type RateLimitMiddlewareOptions } from '../rate-limit-decider.js'

/** Options of the Hono `rateLimit` middleware. */
export interface HonoRateLimitOptions<S extends string = string>
  extends RateLimitMiddlewareOptions<Context, S> {
  /**
   * The socket peer's address. Default: `@hono/node-server`'s `c.env.incoming.socket`; pass one for
   * other runtimes (e.g. Bun's `server.requestIP`).
   */
  readonly peer?: (c: Context) => string | undefined
}

interface NodeBindings {
  readonly incoming?: { readonly socket?: { readonly remoteAddress?: string } }
}

/** Rate-limits Hono requests with a limiter's rule; answers 429 with `Retry-After` and the rate-limit headers. */
export function rateLimit<S extends string>(options: HonoRateLimitOptions<S>): MiddlewareHandler {
  const decide = createRateLimitDecider(options, {
    peer: options.peer ?? ((c) => (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress),
    header: (c, name) => c.req.header(name),
  })
  return async function cachekitRateLimit(c, next) {
    const verdict = await decide(c)
    if (verdict.action === 'skip') return next()
    for (const [name, value] of Object.entries(verdict.headers)) c.header(name, value)
    if (verdict.action === 'pass') return next()
    return c.body(verdict.body, verdict.status)
  }
}
export type { CacheAccountingOptions, RequestCacheCounts } from '../accounting.js'
export { cacheAccounting } from './accounting.js'
export { adminPage, type HonoAdminPage } from './admin.js'
export { cacheResponses, type HonoCacheResponsesOptions } from './response-cache.js'
export { channelEvents } from './sse.js'
