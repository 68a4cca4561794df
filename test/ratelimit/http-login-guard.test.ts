import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { loginGuard as expressLoginGuard } from '../../src/http/express/index.js'
import { loginGuard as fastifyLoginGuard } from '../../src/http/fastify/index.js'
import { loginGuard as honoLoginGuard } from '../../src/http/hono/index.js'
import { MemoryStore } from '../../src/index.js'
import { createLoginGuard, type LoginGuard } from '../../src/ratelimit/index.js'

interface Server {
  readonly url: string
  /** Times the login handler ran. */
  readonly handled: () => number
  close(): Promise<void>
}
type Body = { username?: string; password?: string }
const answer = (body: Body) => (body.password === 'right' ? 200 : 401)

const frameworks: Record<string, (guard: LoginGuard) => Promise<Server>> = {
  async express(guard) {
    let handled = 0
    const app = express()
    app.post(
      '/login',
      express.json(),
      expressLoginGuard({ guard, username: (req) => (req.body as Body | undefined)?.username }),
      (req, res) => {
        handled++
        res.status(answer(req.body as Body)).json({})
      },
    )
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      handled: () => handled,
      close: () => new Promise((r) => server.close(() => r())),
    }
  },
  async fastify(guard) {
    let handled = 0
    const app = Fastify()
    app.post(
      '/login',
      { ...fastifyLoginGuard({ guard, username: (request) => (request.body as Body).username }) },
      async (request, reply) => {
        handled++
        return reply.code(answer(request.body as Body)).send({})
      },
    )
    await app.listen({ port: 0, host: '127.0.0.1' })
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      handled: () => handled,
      close: () => app.close(),
    }
  },
  async hono(guard) {
    let handled = 0
    const app = new Hono()
    app.post(
      '/login',
      honoLoginGuard({ guard, username: async (c) => ((await c.req.json()) as Body).username }),
      async (c) => {
        handled++
        return c.json({}, answer((await c.req.json()) as Body))
      },
    )
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      handled: () => handled,
      close: () => new Promise((r) => server.close(() => r())),
    }
  },
}

for (const [name, start] of Object.entries(frameworks)) {
  describe(`${name} loginGuard over real HTTP`, () => {
    const servers: Server[] = []
    afterAll(async () => {
      for (const s of servers) await s.close()
    })
    const boot = async () => {
      const guard = createLoginGuard({
        store: new MemoryStore(),
        failureLimit: 3,
        coolOff: '15m',
        lockBy: ['username'],
      })
      const s = await start(guard)
      servers.push(s)
      const login = (username: string, password: string) =>
        fetch(`${s.url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        })
      return { login, handled: s.handled }
    }

    it('locks after the failure limit: 429 with Retry-After, the handler not run', async () => {
      const { login, handled } = await boot()
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await login('mallory', 'guess')).status)
      expect(statuses).toEqual([401, 401, 401])
      const locked = await login('mallory', 'right')
      expect(locked.status).toBe(429)
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800)
      expect(locked.headers.get('content-type')).toContain('application/problem+json')
      expect(handled()).toBe(3)
      expect((await login('alice', 'right')).status).toBe(200)
    })

    it('a success forgets the failures', async () => {
      const { login } = await boot()
      for (let i = 0; i < 2; i++) expect((await login('bob', 'guess')).status).toBe(401)
      expect((await login('bob', 'right')).status).toBe(200)
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await login('bob', 'guess')).status)
      expect(statuses).toEqual([401, 401, 401, 429])
    })
  })
}
