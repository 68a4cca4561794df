import type { Context, MiddlewareHandler } from 'hono'
import type { ResponseCache } from '../cache/index.js'
import { captureWeb, pathAndQuery, webReply, webView } from '../cache/internal.js'
import { nodeView } from '../node-capture.js'

/** Options of the Hono {@link cacheResponses} middleware. */
export interface HonoCacheResponsesOptions {
  /** Route name in events, instead of Hono's route template. */
  readonly name?: string
}

const CONDITIONALS = ['if-none-match', 'if-modified-since']

interface NodeBindings {
  readonly incoming?: { readonly headers?: import('node:http').IncomingHttpHeaders }
}

function routeOf(c: Context): string | undefined {
  try {
    return c.req.routePath
  } catch {
    return undefined
  }
}

/**
 * Hono middleware serving pages from a {@link ResponseCache}: `app.use('/articles/*', cacheResponses(pages))`.
 * The response is captured as it leaves the handlers below this middleware; what middlewares above
 * it add runs again on every request, cached or not.
 */
export function cacheResponses(
  rc: ResponseCache,
  options: HonoCacheResponsesOptions = {},
): MiddlewareHandler {
  const o = rc.engine.o
  // Not async: a fresh hit in memory returns its Response at once, without a promise.
  return function cachekitResponseCache(c, next) {
    // On @hono/node-server, Node has already parsed the headers: reading them there spares
    // building a web Headers object on every hit.
    const incoming = (c.env as NodeBindings | undefined)?.incoming?.headers
    const view = incoming ? nodeView(c.req.method, pathAndQuery(c.req.url), incoming) : webView(c.req.raw)
    let replied: Response | undefined
    const served = rc.engine.serveNow(view, {
      async run(forward) {
        if (forward.capture) {
          // The handler must answer in full: the cache answers 304 itself, from the stored ETag.
          for (const name of CONDITIONALS) {
            try {
              c.req.raw.headers.delete(name)
            } catch {}
          }
        }
        await next()
        const done = await captureWeb(o, c.res, forward)
        // Setting c.res merges the old response's headers into the new one: clear it first.
        c.res = undefined
        c.res = done.response
        const route = options.name ?? routeOf(c)
        return route === undefined ? done.captured : { ...done.captured, route }
      },
      reply(reply) {
        replied = webReply(reply, view.method)
      },
      route: () => options.name,
    })
    // Hono awaits what a middleware returns, so a Response itself is as good as a promise of one.
    if (served === undefined) return replied as unknown as Promise<Response>
    return served.then(() => replied)
  }
}
