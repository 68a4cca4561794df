import type { NextFunction, Request, Response } from 'express'
import { createRateLimitDecider, type RateLimitMiddlewareOptions } from '../rate-limit-decider.js'

/** Options of the Express `rateLimit` middleware. */
export type ExpressRateLimitOptions<S extends string = string> = RateLimitMiddlewareOptions<Request, S>

/**
 * Express rate limit middleware. `req.ip` is not used: trust in proxies is this middleware's own
 * `trustProxy` option, so Express's `trust proxy` setting cannot widen it by accident.
 */
export function rateLimit<S extends string>(options: ExpressRateLimitOptions<S>) {
  const decide = createRateLimitDecider(options, {
    peer: (req) => req.socket.remoteAddress,
    header: (req, name) => req.get(name),
  })
  return function cachekitRateLimit(req: Request, res: Response, next: NextFunction): void {
    decide(req).then((verdict) => {
      if (verdict.action === 'skip') return next()
      res.set(verdict.headers)
      if (verdict.action === 'pass') return next()
      res.status(verdict.status).send(verdict.body)
    }, next)
  }
}
export type { CacheAccountingOptions, RequestCacheCounts } from '../accounting.js'
export { cacheAccounting } from './accounting.js'
export { adminPage, type ExpressAdminPage } from './admin.js'
export { cacheResponses, type ExpressCacheResponsesOptions } from './response-cache.js'
export { channelEvents } from './sse.js'
