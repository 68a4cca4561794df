import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type AdminOptions, adminHandler } from '../../admin/index.js'
import { toWebRequest } from '../admin-bridge.js'

/** A Fastify plugin serving the admin page; `close()` stops its sampler. */
export interface FastifyAdminPage {
  (instance: FastifyInstance): Promise<void>
  close(): Promise<void>
}

const FORM = 'application/x-www-form-urlencoded'

/**
 * The admin page (see `adminHandler` in `cachekit/admin`) as a Fastify plugin, serving its
 * `basePath` (default `'/admin'`) and everything below it:
 *
 * ```ts
 * await app.register(adminPage({ caches: { main: cache }, authorize: (request) => isAdmin(request), basePath: '/admin' }))
 * ```
 *
 * It reads its own form bodies inside its plugin scope, so the app needs no form parser (one the
 * app registered is used as it is).
 */
export function adminPage(options: AdminOptions): FastifyAdminPage {
  const handler = adminHandler(options)
  const base = handler.basePath
  const plugin = async function cachekitAdminPage(instance: FastifyInstance): Promise<void> {
    if (!instance.hasContentTypeParser(FORM)) {
      instance.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
        done(null, body),
      )
    }
    const serve = async (request: FastifyRequest, reply: FastifyReply) => {
      const url = `${request.protocol}://${request.headers.host ?? 'localhost'}${request.url}`
      const parsed =
        request.method === 'GET' || request.method === 'HEAD' ? undefined : { body: request.body }
      const response = await handler(await toWebRequest(request.raw, url, parsed))
      const headers: Record<string, string | string[]> = {}
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') headers[name] = value
      })
      const cookies = response.headers.getSetCookie()
      if (cookies.length > 0) headers['set-cookie'] = cookies
      return reply
        .code(response.status)
        .headers(headers)
        .send(Buffer.from(await response.arrayBuffer()))
    }
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
    instance.route({ method: methods, url: base || '/', handler: serve })
    instance.route({ method: methods, url: `${base}/*`, handler: serve })
  }
  return Object.assign(plugin, { close: () => handler.close() })
}
