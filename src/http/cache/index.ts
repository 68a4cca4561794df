import { Engine, type Exchange } from './core.js'
import { type RequestView, type ResponseCacheOptions, resolveOptions } from './options.js'
import type { Reply } from './reply.js'
import { captureWeb, webReply, webView, withoutConditionals } from './web.js'

export { HTTP_CACHE_CHANNEL, type HttpCacheEvent } from './events.js'
export { type FragmentOptions, type FragmentVary, fragment, fragmentKey } from './fragment.js'
export {
  DEFAULT_SESSION_COOKIES,
  DEFAULT_STATUSES,
  type RequestView,
  type ResponseCacheOptions,
} from './options.js'
export type { Captured, Forward, Reply } from './reply.js'
export type { Exchange }

/** A response cache: one engine over web `Request`/`Response`, used by the Express, Fastify and Hono doors. */
export interface ResponseCache {
  /**
   * Serves a web request: from the cache, or by calling `next` (with conditional headers removed
   * when the response is to be stored) and storing what it returns when the rules allow.
   */
  handle(request: Request, next: (request: Request) => Response | Promise<Response>): Promise<Response>
  /** Serves one request through a framework door ({@link Exchange}); used by `cacheResponses`. */
  serve(view: RequestView, exchange: Exchange): Promise<void>
  /** Drops every page stored with this tag, in every process sharing the cache. Returns how many. */
  invalidate(tag: string): Promise<number>
  /** Drops every page whose path starts with `prefix` (as sent, percent-encoded). Returns how many. */
  invalidatePath(prefix: string): Promise<number>
  /** Headers a door adds to a forwarded response (internal to the doors). */
  readonly engine: Engine
}

/**
 * Creates a response cache (Django's `cache_page`, with the faults fixed): see the README section
 * "HTTP response cache" for the rules of what is stored.
 *
 * ```ts
 * const pages = responseCache({ cache, ttl: '5m', grace: '1h', tags: (req) => ['pages'] })
 * ```
 */
export function responseCache(options: ResponseCacheOptions): ResponseCache {
  const o = resolveOptions(options)
  const engine = new Engine(o, options.namespace ?? 'http')
  return {
    engine,
    serve: (view, exchange) => engine.serve(view, exchange),
    invalidate: (tag) => engine.invalidate(tag),
    invalidatePath: (prefix) => engine.invalidatePath(prefix),
    async handle(request, next) {
      const view = webView(request)
      let response: Response | undefined
      await engine.serve(view, {
        async run(forward) {
          const res = await next(forward.capture ? withoutConditionals(request) : request)
          const done = await captureWeb(o, res, forward)
          response = done.response
          return done.captured
        },
        reply(reply: Reply) {
          response = webReply(reply, view.method)
        },
      })
      return response as Response
    },
  }
}
