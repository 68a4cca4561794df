import type { NextFunction, Request, Response } from 'express'
import { type AdminOptions, adminHandler } from '../../admin/index.js'
import { sendWebResponse, toWebRequest } from '../admin-bridge.js'

/** Express middleware serving the admin page; `close()` stops its sampler. */
export interface ExpressAdminPage {
  (req: Request, res: Response, next: NextFunction): void
  close(): Promise<void>
}

/**
 * The admin page (see `adminHandler` in `cachekit/admin`) as Express middleware. Mount it at its
 * `basePath` (default `'/admin'`):
 *
 * ```ts
 * app.use('/admin', adminPage({ caches: { main: cache }, authorize: (req) => isAdmin(req), basePath: '/admin' }))
 * ```
 *
 * The `Request` given to `authorize` carries the browser's headers (cookies included) and the
 * URL as the client sent it (`req.protocol`, so Express's `trust proxy` setting applies).
 */
export function adminPage(options: AdminOptions): ExpressAdminPage {
  const handler = adminHandler(options)
  const middleware = function cachekitAdminPage(req: Request, res: Response, next: NextFunction): void {
    const url = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`
    // A body parser that ran before (express.urlencoded) has consumed the stream: use its result.
    const consumed = (req as { _body?: boolean })._body === true || req.readableEnded
    const parsed = consumed ? { body: req.body as unknown } : undefined
    toWebRequest(req, url, parsed)
      .then(handler)
      .then((response) => sendWebResponse(response, res))
      .catch(next)
  }
  return Object.assign(middleware, { close: () => handler.close() })
}
