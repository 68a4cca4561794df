import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { rateLimit as expressRateLimit } from '../../src/http/express/index.js'
import { rateLimit as fastifyRateLimit } from '../../src/http/fastify/index.js'
import { rateLimit as honoRateLimit } from '../../src/http/hono/index.js'
import { MemoryStore } from '../../src/index.js'
import { createRateLimiter } from '../../src/ratelimit/index.js'
import { listen } from '../support/listen.js'

type Start = (limiter: ReturnType<typeof makeLimiter>) => Promise<{ url: string; close: () => Promise<void> }>

function makeLimiter() {
  return createRateLimiter({
    store: new MemoryStore(),
    rules: { anon: '2/min', user: '3/min', staff: ['4/min', '100/day'] },
  })
}

const scope = (header: (n: string) => string | undefined) =>
  header('x-role') === 'staff' ? 'staff' : header('x-user') ? 'user' : 'anon'

const frameworks: Record<string, Start> = {
  async express(limiter) {
    const app = express()
    app.use(
      expressRateLimit({
        limiter,
        scope: (req) => scope((n) => req.get(n)),
        key: (req) => req.get('x-user'),
        skip: (req) => req.path === '/health',
        allowList: ['192.0.2.0/24'],
        trustProxy: ['127.0.0.1'],
        headers: { legacy: true },
      }),
    )
    app.get('/{*any}', (_req, res) => {
      res.json({ ok: true })
    })
    return listen(createServer(app))
  },
  async fastify(limiter) {
    const app = Fastify()
    await app.register(
      fastifyRateLimit({
        limiter,
        scope: (req) => scope((n) => req.headers[n] as string | undefined),
        key: (req) => req.headers['x-user'] as string | undefined,
        skip: (req) => req.url === '/health',
        allowList: ['192.0.2.0/24'],
        trustProxy: ['127.0.0.1'],
        headers: { legacy: true },
      }),
    )
    app.get('/*', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() }
  },
  async hono(limiter) {
    const app = new Hono()
    app.use(
      honoRateLimit({
        limiter,
        scope: (c) => scope((n) => c.req.header(n)),
        key: (c) => c.req.header('x-user'),
        skip: (c) => c.req.path === '/health',
        allowList: ['192.0.2.0/24'],
        trustProxy: ['127.0.0.1'],
        headers: { legacy: true },
      }),
    )
    app.get('/*', (c) => c.json({ ok: true }))
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((r) => server.close(() => r())),
    }
  },
}

for (const [name, start] of Object.entries(frameworks)) {
  describe(`${name} middleware over real HTTP`, () => {
    const servers: { close: () => Promise<void> }[] = []
    afterAll(async () => {
      for (const s of servers) await s.close()
    })
    const boot = async () => {
      const s = await start(makeLimiter())
      servers.push(s)
      return s.url
    }

    it('limits by IP with IETF headers, then 429 problem+json with Retry-After', async () => {
      const url = await boot()
      const ok = await fetch(`${url}/a`)
      expect(ok.status).toBe(200)
      expect(ok.headers.get('ratelimit-policy')).toBe('"anon";q=2;w=60')
      expect(ok.headers.get('ratelimit')).toMatch(/^"anon";r=1;t=\d+$/)
      expect(ok.headers.get('x-ratelimit-limit')).toBe('2')
      await fetch(`${url}/a`)
      const refused = await fetch(`${url}/a`)
      expect(refused.status).toBe(429)
      expect(refused.headers.get('content-type')).toContain('application/problem+json')
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(refused.headers.get('ratelimit')).toMatch(/^"anon";r=0;t=\d+$/)
      const body = (await refused.json()) as { status: number; title: string }
      expect(body).toMatchObject({ status: 429, title: 'Too Many Requests' })
    })

    it('rules by scope and key by user; several policies in the headers', async () => {
      const url = await boot()
      const asUser = (u: string) => fetch(`${url}/b`, { headers: { 'x-user': u } })
      for (let i = 0; i < 3; i++) expect((await asUser('alice')).status).toBe(200)
      expect((await asUser('alice')).status).toBe(429)
      expect((await asUser('bob')).status).toBe(200)
      const staff = await fetch(`${url}/b`, { headers: { 'x-user': 'carol', 'x-role': 'staff' } })
      expect(staff.headers.get('ratelimit-policy')).toBe('"staff";q=4;w=60, "staff-2";q=100;w=86400')
    })

    it('skip, allow list, and X-Forwarded-For only from trusted proxies', async () => {
      const url = await boot()
      for (let i = 0; i < 5; i++) expect((await fetch(`${url}/health`)).status).toBe(200)
      // The peer (127.0.0.1) is a trusted proxy, so the forwarded client counts: each its own key.
      for (let i = 0; i < 3; i++) {
        expect((await fetch(`${url}/c`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status).toBe(
          200,
        )
      }
      for (let i = 0; i < 5; i++) {
        expect((await fetch(`${url}/c`, { headers: { 'x-forwarded-for': '192.0.2.10' } })).status).toBe(200)
      }
      // IPv6 clients share a key per /64.
      expect((await fetch(`${url}/c`, { headers: { 'x-forwarded-for': '2001:db8:1:2::1' } })).status).toBe(
        200,
      )
      expect((await fetch(`${url}/c`, { headers: { 'x-forwarded-for': '2001:db8:1:2::2' } })).status).toBe(
        200,
      )
      expect((await fetch(`${url}/c`, { headers: { 'x-forwarded-for': '2001:db8:1:2::3' } })).status).toBe(
        429,
      )
    })
  })
}
