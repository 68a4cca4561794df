import type { IncomingHttpHeaders } from 'node:http'
import type { Context, Env, Handler, Input, MiddlewareHandler, Next } from 'hono'
import type { Captured, Exchange, Forward, Reply, RequestView, ResponseCache } from '../cache/index.js'
import { captureWeb, pathAndQuery, webReply } from '../cache/internal.js'

/** Options of the Hono {@link cacheResponses} middleware and {@link cachePage} handler. */
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

/** A route handler as {@link HonoExchange} calls it: whatever Hono's handler types say, a Response or none. */
type AnyHandler = (c: Context, next: Next) => unknown

/**
 * One request through the middleware or a {@link cachePage} handler: the engine's view of the
 * request and its exchange with Hono in one object, so a hit allocates no closures (a hit is the
 * hot path: one of these, one Response). With a `handler`, the page is what it returns; without,
 * what the handlers below the middleware leave in `c.res`.
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
    readonly handler: AnyHandler | undefined,
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
    let res: Response
    if (this.handler === undefined) {
      await this.next()
      res = c.res
    } else {
      const out = await this.handler(c, this.next)
      res = out instanceof Response ? out : c.res
    }
    const done = await captureWeb(this.rc.engine.o, res, forward)
    if (this.handler === undefined) {
      // Setting c.res merges the old response's headers into the new one: clear it first.
      c.res = undefined
      c.res = done.response
    } else this.replied = done.response
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
 * Serves one request: on a fresh hit in memory, the Response itself (no promise); otherwise a
 * promise of the Response the cache answered with, or of undefined when the page is in `c.res`.
 */
function serve(
  c: Context,
  next: Next,
  rc: ResponseCache,
  name: string | undefined,
  handler: AnyHandler | undefined,
): Response | Promise<Response | undefined> | undefined {
  const incoming = (c.env as NodeBindings | undefined)?.incoming?.headers
  const ex = new HonoExchange(c, next, rc, name, incoming, handler)
  const served = rc.engine.serveNow(ex, ex)
  if (served === undefined) return ex.replied
  return served.then(() => ex.replied)
}

/**
 * Hono middleware serving pages from a {@link ResponseCache}: `app.use('/articles/*', cacheResponses(pages))`.
 * The response is captured as it leaves the handlers below this middleware; what middlewares above
 * it add runs again on every request, cached or not.
 *
 * Any `app.use` middleware makes Hono run the route's handlers as a promise chain, hits included:
 * {@link cachePage} wraps one route's handler instead, and answers a hit without a promise.
 */
export function cacheResponses(
  rc: ResponseCache,
  options: HonoCacheResponsesOptions = {},
): MiddlewareHandler {
  const { name } = options
  // Not async: a fresh hit in memory returns its Response at once, without a promise.
  return function cachekitResponseCache(c, next) {
    // Hono awaits what a middleware returns, so a Response itself is as good as a promise of one.
    return serve(c, next, rc, name, undefined) as Promise<Response | undefined>
  }
}

/**
 * A Hono route handler serving `handler`'s page from a {@link ResponseCache}, like Django's
 * `cache_page` on one view: `app.get('/articles/:id', cachePage(pages, (c) => c.html(render(c))))`.
 *
 * Same rules and headers as {@link cacheResponses} (Set-Cookie refused, Vary, ETag and 304,
 * grace, single flight, tags). The difference is where it sits: with no `app.use` middleware on the
 * route, Hono calls this handler directly, and a fresh hit in memory (the store or an L1) returns
 * its Response synchronously; @hono/node-server then writes it at once, without a promise. What
 * middlewares registered with `app.use` add to the response runs again on every request, cached or not.
 */
export function cachePage<E extends Env = Env, P extends string = string, I extends Input = Input>(
  rc: ResponseCache,
  handler: Handler<E, P, I>,
  options: HonoCacheResponsesOptions = {},
): Handler<E, P, I> {
  const { name } = options
  const inner = handler as unknown as AnyHandler
  // Not async: a fresh hit in memory returns its Response at once, without a promise.
  function cachekitCachePage(c: Context, next: Next) {
    const out = serve(c, next, rc, name, inner)
    // On a miss the page is the one `handler` answered, kept in the exchange: never undefined.
    return out as Response | Promise<Response>
  }
  return cachekitCachePage as unknown as Handler<E, P, I>
}
