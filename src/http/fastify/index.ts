import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidOptionError } from '../../errors.js'
import {
  createRateLimitDecider,
  type RateLimitMiddlewareOptions,
  type RequestRateLimit,
} from '../rate-limit-decider.js'
import { openPlugin } from './plugin.js'

/** Rate limit options for Fastify: the shared options and a `handler` for refusals. */
export interface FastifyRateLimitOptions<S extends string = string>
  extends RateLimitMiddlewareOptions<FastifyRequest, S> {
  /**
   * Answers a refused request instead of the default 429 `application/problem+json` (the
   * `RateLimit` and `Retry-After` headers are already set); it must send the reply.
   */
  readonly handler?: (request: FastifyRequest, reply: FastifyReply, result: RequestRateLimit) => unknown
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The decision of cachekit's rate limit hook for this request, when it ran. */
    rateLimit?: RequestRateLimit
  }
}

const SETTLE = Symbol('cachekit.rateLimit.settle')

type Settling = FastifyRequest & { [SETTLE]?: (status: number) => void }

/**
 * The rate limit as hooks, for one route: `app.get('/login', { ...rateLimitHooks(...) }, handler)`.
 * `onResponse` gives requests back under `skipFailedRequests`/`skipSuccessfulRequests`. The
 * decision is left on `request.rateLimit`.
 */
export function rateLimitHooks<S extends string>(options: FastifyRateLimitOptions<S>) {
  const decide = createRateLimitDecider(options, {
    peer: (req) => req.raw.socket.remoteAddress,
    header: (req, name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
  })
  return {
    onRequest: async function cachekitRateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const verdict = await decide(request)
      if (verdict.action === 'skip') return
      request.rateLimit = verdict.info
      reply.headers(verdict.headers)
      if (verdict.action === 'pass') {
        if (verdict.settle) (request as Settling)[SETTLE] = verdict.settle
        return
      }
      if (options.handler) await options.handler(request, reply, verdict.info)
      else await reply.code(verdict.status).send(verdict.body)
    },
    onResponse: async function cachekitRateLimitSettle(
      request: FastifyRequest,
      reply: FastifyReply,
    ): Promise<void> {
      const settle = (request as Settling)[SETTLE]
      // Fastify runs onResponse once the reply is done (sent, or its connection gone): its status.
      if (settle) settle(reply.statusCode)
    },
  }
}

/**
 * An `onRequest` hook, for one route (`{ onRequest: rateLimitHook(...) }`) or a scope. With
 * `skipFailedRequests`/`skipSuccessfulRequests` use {@link rateLimitHooks} or the plugin, which
 * also see the response.
 */
export function rateLimitHook<S extends string>(options: FastifyRateLimitOptions<S>) {
  if (options?.skipFailedRequests || options?.skipSuccessfulRequests) {
    throw new InvalidOptionError(
      'rateLimitHook only sees the request: with skipFailedRequests or skipSuccessfulRequests use rateLimitHooks(...) or app.register(rateLimit(...))',
    )
  }
  return rateLimitHooks(options).onRequest
}

/**
 * A Fastify plugin: `app.register(rateLimit({ limiter, scope: 'api' }))`. Like fastify-plugin, it
 * skips encapsulation, so the hooks apply to the routes of the instance that registers it.
 */
export function rateLimit<S extends string>(options: FastifyRateLimitOptions<S>) {
  const hooks = rateLimitHooks(options)
  return openPlugin('cachekit-rate-limit', function cachekitRateLimitPlugin(fastify, _opts, done) {
    if (!fastify.hasRequestDecorator('rateLimit')) fastify.decorateRequest('rateLimit', undefined)
    fastify.addHook('onRequest', hooks.onRequest)
    fastify.addHook('onResponse', hooks.onResponse)
    done()
  })
}
export type { CacheAccountingOptions, RequestCacheCounts } from '../accounting.js'
export type { LoginOutcome } from '../login-guard-decider.js'
export type { RequestRateLimit } from '../rate-limit-decider.js'
export { cacheAccounting, cacheAccountingHooks } from './accounting.js'
export { adminPage, type FastifyAdminPage } from './admin.js'
export { type FastifyLoginGuardOptions, loginGuard } from './login-guard.js'
export { cacheResponses, type FastifyCacheResponsesOptions } from './response-cache.js'
export { channelEvents } from './sse.js'
