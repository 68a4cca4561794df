import type { MiddlewareHandler } from 'hono'
import { type CacheAccountingOptions, createAccounting } from '../accounting.js'

/**
 * Hono middleware that counts the cache hits and misses made while serving each request and sets
 * `X-Cache-Hits`, `X-Cache-Misses` and `X-Response-Time` on its response. Off unless mounted:
 * `app.get('/report', cacheAccounting(), handler)` for one route, `app.use(cacheAccounting())` for all.
 */
export function cacheAccounting(options?: CacheAccountingOptions): MiddlewareHandler {
  const accounting = createAccounting(options)
  return async function cachekitCacheAccounting(c, next) {
    const account = accounting.begin()
    await account.run(next)
    for (const [name, value] of account.headers()) c.header(name, value)
  }
}
