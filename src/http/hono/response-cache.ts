import type { IncomingHttpHeaders } from 'node:http'
import type { Context, MiddlewareHandler, Next } from 'hono'
import type { Captured, Exchange, Forward, Reply, RequestView, ResponseCache } from '../cache/index.js'
import { captureWeb, pathAndQuery, webReply } from '../cache/internal.js'

/** Options of the Hono {@link cacheResponses} middleware. */
export interface HonoCacheResponsesOptions {
  /** Route name in events, instead of Hono's route template. */
  readonly name?: string
}

const CONDITIONALS = ['if-none-match', 'if-modified-since']

interface NodeBindings {
  readonly incoming?: { readonly headers?: IncomingHttpHeaders }
}

function routeOf(c: Context): string | undefined {
  try {
    return c.req.routePath
  } catch {
    return undefined
  }
}

/**
 * One request through the middleware: the engine's view of the request and its exchange with Hono
 * in one object, so a hit allocates no closures (a hit is the hot path: one of these, one Response).
 */
class HonoExchange implements RequestView, Exchange {
  readonly method: string
  readonly url: string
  /** What the cache answered, when it answered itself. */
  replied: Response | undefined

  constructor(
    readonly c: Context,
    readonly next: Next,
    readonly rc: ResponseCache,
    readonly name: string | undefined,
    /** On @hono/node-server, the headers Node already parsed: reading them spares building a web `Headers`. */
    readonly incoming: IncomingHttpHeaders | undefined,
  ) {
    this.method = c.req.method.toUpperCase()
    this.url = pathAndQuery(c.req.url)
  }

  header(name: string): string | undefined {
    if (this.incoming === undefined) return this.c.req.raw.headers.get(name) ?? undefined
    const value = this.incoming[name]
    return Array.isArray(value) ? value.join(', ') : value
  }

  async run(forward: Forward): Promise<Captured> {
    const c = this.c
    if (forward.capture) {
      // The handler must answer in full: the cache answers 304 itself, from the stored ETag.
      for (const name of CONDITIONALS) {
        try {
          c.req.raw.headers.delete(name)
        } catch {}
      }
    }
    await this.next()
    const done = await captureWeb(this.rc.engine.o, c.res, forward)
    // Setting c.res merges the old response's headers into the new one: clear it first.
    c.res = undefined
    c.res = done.response
    const route = this.name ?? routeOf(c)
    return route === undefined ? done.captured : { ...done.captured, route }
  }

  reply(reply: Reply): void {
    this.replied = webReply(reply, this.method)
  }

  route(): string | undefined {
    return this.name
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
  const { name } = options
  // Not async: a fresh hit in memory returns its Response at once, without a promise.
  return function cachekitResponseCache(c, next) {
    const incoming = (c.env as NodeBindings | undefined)?.incoming?.headers
    const ex = new HonoExchange(c, next, rc, name, incoming)
    const served = rc.engine.serveNow(ex, ex)
    // Hono awaits what a middleware returns, so a Response itself is as good as a promise of one.
    if (served === undefined) return ex.replied as unknown as Promise<Response>
    return served.then(() => ex.replied)
  }
}
