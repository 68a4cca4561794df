import type { FastifyReply, FastifyRequest } from 'fastify'
import { type CacheAccountingOptions, createAccounting, type RequestAccount } from '../accounting.js'
import { type OnSendDone, openPlugin } from './plugin.js'

const ACCOUNT = Symbol('cachekit.accounting')

type Accounted = FastifyRequest & { [ACCOUNT]?: RequestAccount }

/**
 * Fastify hooks that count the cache hits and misses made while serving each request and set
 * `X-Cache-Hits`, `X-Cache-Misses` and `X-Response-Time` on its reply. For one route:
 * `app.get('/report', { ...cacheAccountingHooks() }, handler)`; for a scope: `app.register(cacheAccounting())`.
 */
export function cacheAccountingHooks(options?: CacheAccountingOptions) {
  const accounting = createAccounting(options)
  return {
    // Callback style, so the rest of the request (hooks, handler) runs inside the tally's context.
    onRequest: function cachekitAccountingStart(
      request: FastifyRequest,
      _reply: FastifyReply,
      done: (err?: Error) => void,
    ): void {
      const account = accounting.begin()
      ;(request as Accounted)[ACCOUNT] = account
      account.run(() => done())
    },
    onSend: function cachekitAccountingHeaders(
      request: FastifyRequest,
      reply: FastifyReply,
      payload: unknown,
      done: OnSendDone,
    ): void {
      const account = (request as Accounted)[ACCOUNT]
      if (account) for (const [name, value] of account.headers()) reply.header(name, value)
      done(null, payload)
    },
  }
}

/**
 * A Fastify plugin: `app.register(cacheAccounting())` counts for the routes of the instance that
 * registers it (like fastify-plugin, it skips encapsulation); register it inside a child scope
 * (`app.register(async (scope) => { await scope.register(cacheAccounting()); ... })`) to limit it.
 */
export function cacheAccounting(options?: CacheAccountingOptions) {
  const hooks = cacheAccountingHooks(options)
  return openPlugin(
    'cachekit-cache-accounting',
    function cachekitCacheAccountingPlugin(fastify, _opts, done) {
      fastify.addHook('onRequest', hooks.onRequest)
      fastify.addHook('onSend', hooks.onSend)
      done()
    },
  )
}
