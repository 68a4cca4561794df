import type { Context } from 'hono'
import { type AdminOptions, adminHandler } from '../../admin/index.js'

/** A Hono handler serving the admin page; `close()` stops its sampler. */
export interface HonoAdminPage {
  (c: Context): Promise<Response>
  close(): Promise<void>
}

/**
 * The admin page (see `adminHandler` in `cachekit/admin`) as a Hono handler. Route both the base
 * path and everything below it to it:
 *
 * ```ts
 * const admin = adminPage({ caches: { main: cache }, authorize: (request) => isAdmin(request), basePath: '/admin' })
 * app.all('/admin', admin)
 * app.all('/admin/*', admin)
 * ```
 */
export function adminPage(options: AdminOptions): HonoAdminPage {
  const handler = adminHandler(options)
  const page = function cachekitAdminPage(c: Context): Promise<Response> {
    return handler(c.req.raw)
  }
  return Object.assign(page, { close: () => handler.close() })
}
