import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { rateLimit as expressRateLimit } from '../../src/http/express/index.js'
import { rateLimit as fastifyRateLimit, rateLimitHook, rateLimitHooks } from '../../src/http/fastify/index.js'
import { rateLimit as honoRateLimit } from '../../src/http/hono/index.js'
import type { RateLimitMiddlewareOptions } from '../../src/http/rate-limit-decider.js'
import { rateLimitHeaders } from '../../src/ratelimit/headers.js'
import { createRateLimiter, type RateLimiter } from '../../src/ratelimit/index.js'

type Common = Omit<
  RateLimitMiddlewareOptions<never>,
  'limiter' | 'scope' | 'skip' | 'cost' | 'key' | 'user' | 'role'
>
interface Server {
  readonly url: string
  close(): Promise<void>
}
/** Starts an app with the middleware on every route: /ok answers 200, /fail 500, both with the decision. */
type Start = (limiter: RateLimiter<'api'>, options: Common & { custom?: boolean }) => Promise<Server>

const body = (r: { scope: string; remaining: number } | undefined) => ({
  scope: r?.scope,
  remaining: r?.remaining,
})

const frameworks: Record<string, Start> = {
  async express(limiter, { custom, ...options }) {
    const app = express()
    app.use(
      expressRateLimit({
        limiter,
        scope: 'api',
        ...options,
        ...(custom && {
          handler: (_req, res, _next, result) => {
            res.status(429).json({ custom: true, retry: result.retryAfterMs > 0 })
          },
        }),
      }),
    )
    app.get('/ok', (req, res) => {
      res.json(body(req.rateLimit))
    })
    app.get('/fail', (req, res) => {
      res.status(500).json(body(req.rateLimit))
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((r) => server.close(() => r())),
    }
  },
  async fastify(limiter, { custom, ...options }) {
    const app = Fastify()
    await app.register(
      fastifyRateLimit({
        limiter,
        scope: 'api',
        ...options,
        ...(custom && {
          handler: (_request, reply, result) =>
            reply.code(429).send({ custom: true, retry: result.retryAfterMs > 0 }),
        }),
      }),
    )
    app.get('/ok', async (request) => body(request.rateLimit))
    app.get('/fail', async (request, reply) => reply.code(500).send(body(request.rateLimit)))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() }
  },
  async hono(limiter, { custom, ...options }) {
    const app = new Hono()
    app.use(
      honoRateLimit({
        limiter,
        scope: 'api',
        ...options,
        ...(custom && {
          handler: (c, result) => c.json({ custom: true, retry: result.retryAfterMs > 0 }, 429),
        }),
      }),
    )
    app.get('/ok', (c) => c.json(body(c.get('rateLimit'))))
    app.get('/fail', (c) => c.json(body(c.get('rateLimit')), 500))
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((r) => server.close(() => r())),
    }
  },
}

const statuses = async (url: string, n: number) => {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await fetch(url)).status)
  return out
}

for (const [name, start] of Object.entries(frameworks)) {
  describe(`${name}: rate limit middleware options`, () => {
    const servers: Server[] = []
    afterAll(async () => {
      for (const s of servers) await s.close()
    })
    const boot = async (options: Common & { custom?: boolean }) => {
      const s = await start(createRateLimiter({ rules: { api: '2/min' } }), options)
      servers.push(s)
      return s.url
    }

    it('skipFailedRequests: failed responses are given back', async () => {
      const url = await boot({ skipFailedRequests: true })
      expect(await statuses(`${url}/fail`, 4)).toEqual([500, 500, 500, 500])
      expect(await statuses(`${url}/ok`, 3)).toEqual([200, 200, 429])
    })

    it('skipSuccessfulRequests: only failures count', async () => {
      const url = await boot({ skipSuccessfulRequests: true })
      expect(await statuses(`${url}/ok`, 4)).toEqual([200, 200, 200, 200])
      expect(await statuses(`${url}/fail`, 3)).toEqual([500, 500, 429])
    })

    it('exposes the decision to later handlers, and a custom handler answers refusals', async () => {
      const url = await boot({ custom: true })
      expect(await (await fetch(`${url}/ok`)).json()).toEqual({ scope: 'api', remaining: 1 })
      await fetch(`${url}/ok`)
      const refused = await fetch(`${url}/ok`)
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).not.toBeNull()
      expect(await refused.json()).toEqual({ custom: true, retry: true })
    })

    it('draft-6 headers on request', async () => {
      const url = await boot({ headers: { draft: 6 } })
      const ok = await fetch(`${url}/ok`)
      expect(ok.headers.get('ratelimit-policy')).toBe('2;w=60')
      expect(ok.headers.get('ratelimit-limit')).toBe('2')
      expect(ok.headers.get('ratelimit-remaining')).toBe('1')
      expect(ok.headers.get('ratelimit')).toBeNull()
    })
  })
}

describe('RateLimit header drafts', () => {
  it('8 (default), 7 and 6', async () => {
    const limiter = createRateLimiter({ rules: { api: ['10/min', '1000/day'] } })
    const result = await limiter.consume('api', 'k')
    expect(rateLimitHeaders(result)).toMatchObject({
      'RateLimit-Policy': '"api";q=10;w=60, "api-2";q=1000;w=86400',
      RateLimit: expect.stringMatching(/^"api";r=9;t=\d+, "api-2";r=999;t=\d+$/),
    })
    const seven = rateLimitHeaders(result, { draft: 7 })
    expect(seven['RateLimit-Policy']).toBe('10;w=60, 1000;w=86400')
    expect(seven['RateLimit']).toMatch(/^limit=10, remaining=9, reset=\d+$/)
    const six = rateLimitHeaders(result, { draft: 6 })
    expect(six).toMatchObject({ 'RateLimit-Limit': '10', 'RateLimit-Remaining': '9' })
    expect(six['RateLimit']).toBeUndefined()
  })

  it('fastify rateLimitHooks on one route gives failed requests back', async () => {
    const limiter = createRateLimiter({ rules: { api: '2/min' } })
    const app = Fastify()
    const hooks = rateLimitHooks({ limiter, scope: 'api', skipFailedRequests: true })
    app.get('/fail', { ...hooks }, async (_request, reply) => reply.code(503).send('down'))
    app.get('/ok', { ...hooks }, async () => 'ok')
    try {
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await app.inject('/fail')).statusCode)
      for (let i = 0; i < 3; i++) statuses.push((await app.inject('/ok')).statusCode)
      expect(statuses).toEqual([503, 503, 503, 200, 200, 429])
    } finally {
      await app.close()
    }
  })

  it('fastify rateLimitHook refuses the skip options it cannot honour', () => {
    const limiter = createRateLimiter({ rules: { api: '2/min' } })
    expect(() => rateLimitHook({ limiter, scope: 'api', skipFailedRequests: true })).toThrow(/rateLimitHooks/)
  })
})
