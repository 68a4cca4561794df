import type { FastifyReply, FastifyRequest } from 'fastify'
import { createRateLimitDecider, type RateLimitMiddlewareOptions } from '../rate-limit-decider.js'
import { openPlugin } from './plugin.js'

/** Options of the Fastify `rateLimit` hook. */
export type FastifyRateLimitOptions<S extends string = string> = RateLimitMiddlewareOptions<FastifyRequest, S>

/** An `onRequest` hook, for one route (`{ onRequest: rateLimitHook(...) }`) or a scope. */
export function rateLimitHook<S extends string>(options: FastifyRateLimitOptions<S>) {
  const decide = createRateLimitDecider(options, {
    peer: (req) => req.raw.socket.remoteAddress,
    header: (req, name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
  })
  return async function cachekitRateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const verdict = await decide(request)
    if (verdict.action === 'skip') return
    reply.headers(verdict.headers)
    if (verdict.action === 'reject') await reply.code(verdict.status).send(verdict.body)
  }
}

/**
 * A Fastify plugin: `app.register(rateLimit({ limiter, scope: 'api' }))`. Like fastify-plugin, it
 * skips encapsulation, so the hook applies to the routes of the instance that registers it.
 */
export function rateLimit<S extends string>(options: FastifyRateLimitOptions<S>) {
  const hook = rateLimitHook(options)
  return openPlugin('cachekit-rate-limit', function cachekitRateLimitPlugin(fastify, _opts, done) {
    fastify.addHook('onRequest', hook)
    done()
  })
}
export type { CacheAccountingOptions, RequestCacheCounts } from '../accounting.js'
export { cacheAccounting, cacheAccountingHooks } from './accounting.js'
export { adminPage, type FastifyAdminPage } from './admin.js'
export { cacheResponses, type FastifyCacheResponsesOptions } from './response-cache.js'
export { channelEvents } from './sse.js'
