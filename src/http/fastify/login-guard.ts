import type { FastifyReply, FastifyRequest } from 'fastify'
import { createLoginGuardDecider, type LoginGuardMiddlewareOptions } from '../login-guard-decider.js'

/** {@link loginGuard} options for Fastify: `username` takes the Fastify request. */
export type FastifyLoginGuardOptions = LoginGuardMiddlewareOptions<FastifyRequest>

const SETTLE = Symbol('cachekit.loginGuard.settle')

type Settling = FastifyRequest & { [SETTLE]?: (status: number) => Promise<void> }

/**
 * Fastify login guard hooks for a login route: `app.post('/login', { ...loginGuard({ guard,
 * username: (request) => (request.body as { username?: string }).username }) }, handler)`. The
 * check runs in `preHandler` (the body is parsed by then); locked attempts get 429 with
 * `Retry-After`; `onSend` records the attempt from the status (4xx a failure, below 400 a
 * success).
 */
export function loginGuard(options: FastifyLoginGuardOptions) {
  const decide = createLoginGuardDecider<FastifyRequest>(options, {
    peer: (req) => req.raw.socket.remoteAddress,
    header: (req, name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
  })
  return {
    preHandler: async function cachekitLoginGuard(request: FastifyRequest, reply: FastifyReply) {
      const verdict = await decide(request)
      if (verdict.action === 'pass') {
        ;(request as Settling)[SETTLE] = verdict.settle
        return
      }
      await reply.code(verdict.status).headers(verdict.headers).send(verdict.body)
    },
    // Recorded before the reply goes out, so the client's next attempt sees it; onResponse catches
    // replies that never reach onSend (a connection closed first).
    onSend: async function cachekitLoginGuardRecord(request: FastifyRequest, reply: FastifyReply) {
      await (request as Settling)[SETTLE]?.(reply.statusCode)
    },
    onResponse: async function cachekitLoginGuardClosed(request: FastifyRequest, reply: FastifyReply) {
      await (request as Settling)[SETTLE]?.(reply.raw.writableFinished ? reply.statusCode : 0)
    },
  }
}
