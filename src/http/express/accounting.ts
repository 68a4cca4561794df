import type { NextFunction, Request, Response } from 'express'
import { type CacheAccountingOptions, createAccounting } from '../accounting.js'

/**
 * Express middleware that counts the cache hits and misses made while serving each request and
 * sets `X-Cache-Hits`, `X-Cache-Misses` and `X-Response-Time` on its response. Off unless
 * mounted: `app.get('/report', cacheAccounting(), handler)` for one route, `app.use(...)` for all.
 */
export function cacheAccounting(options?: CacheAccountingOptions) {
  const accounting = createAccounting(options)
  return function cachekitCacheAccounting(_req: Request, res: Response, next: NextFunction): void {
    const account = accounting.begin()
    // The headers are set at the last moment they can be: when the response writes its head.
    const writeHead = res.writeHead
    res.writeHead = function cachekitAccountingWriteHead(this: Response, ...args: unknown[]) {
      if (!this.headersSent) for (const [name, value] of account.headers()) this.setHeader(name, value)
      return (writeHead as (...a: unknown[]) => Response).apply(this, args)
    } as Response['writeHead']
    account.run(() => next())
  }
}
