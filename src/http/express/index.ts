import type { NextFunction, Request, Response } from 'express'
import {
  createRateLimitDecider,
  type RateLimitMiddlewareOptions,
  type RequestRateLimit,
} from '../rate-limit-decider.js'

/** {@link rateLimit} options for Express: the shared options and a `handler` for refusals. */
export interface ExpressRateLimitOptions<S extends string = string>
  extends RateLimitMiddlewareOptions<Request, S> {
  /**
   * Answers a refused request instead of the default 429 `application/problem+json` (the
   * `RateLimit` and `Retry-After` headers are already set): `(req, res, next, result) => ...`.
   */
  readonly handler?: (req: Request, res: Response, next: NextFunction, result: RequestRateLimit) => unknown
}

declare global {
  // Express types its request through this global namespace: merging is the only way in.
  namespace Express {
    interface Request {
      /** The decision of cachekit's `rateLimit` middleware for this request, when it ran. */
      rateLimit?: RequestRateLimit
    }
  }
}

/**
 * Express rate limit middleware. `req.ip` is not used: trust in proxies is this middleware's own
 * `trustProxy` option, so Express's `trust proxy` setting cannot widen it by accident. The decision
 * is left on `req.rateLimit`.
 */
export function rateLimit<S extends string>(options: ExpressRateLimitOptions<S>) {
  const decide = createRateLimitDecider(options, {
    peer: (req) => req.socket.remoteAddress,
    header: (req, name) => req.get(name),
  })
  return function cachekitRateLimit(req: Request, res: Response, next: NextFunction): void {
    decide(req)
      .then((verdict): unknown => {
        if (verdict.action === 'skip') return next()
        req.rateLimit = verdict.info
        res.set(verdict.headers)
        if (verdict.action === 'pass') {
          const settle = verdict.settle
          if (settle) {
            let done = false
            const end = (status: number) => {
              if (done) return
              done = true
              settle(status)
            }
            res.once('finish', () => end(res.statusCode))
            res.once('close', () => end(0))
          }
          return next()
        }
        // A handler's promise joins the chain: its failure goes to Express's error handling.
        if (options.handler) return options.handler(req, res, next, verdict.info)
        res.status(verdict.status).send(verdict.body)
        return undefined
      })
      .catch(next)
  }
}

export type { CacheAccountingOptions, RequestCacheCounts } from '../accounting.js'
export type { LoginOutcome } from '../login-guard-decider.js'
export type { RequestRateLimit } from '../rate-limit-decider.js'
export { cacheAccounting } from './accounting.js'
export { adminPage, type ExpressAdminPage } from './admin.js'
export { type ExpressLoginGuardOptions, loginGuard } from './login-guard.js'
export { cacheResponses, type ExpressCacheResponsesOptions } from './response-cache.js'
export { channelEvents } from './sse.js'
