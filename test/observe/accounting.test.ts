import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheAccounting as expressAccounting } from '../../src/http/express/index.js'
import { cacheAccountingHooks as fastifyAccountingHooks } from '../../src/http/fastify/index.js'
import { cacheAccounting as honoAccounting } from '../../src/http/hono/index.js'
import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { listen } from '../support/listen.js'

/** Requests served at once in the overlap test; each waits until all have arrived. */
const CONCURRENT = 24

interface Server {
  readonly url: string
  close(): Promise<void>
}

/**
 * The work of one request: `hits` reads of present keys and `misses` of absent ones, split by a
 * barrier that holds every request until all of them are in flight, so their cache calls overlap.
 */
function makeWork(cache: Cache) {
  let arrived = 0
  let release: () => void = () => {}
  let barrier = new Promise<void>((r) => (release = r))
  const reset = () => {
    arrived = 0
    barrier = new Promise<void>((r) => (release = r))
  }
  const work = async (hits: number, misses: number, wait: boolean) => {
    const half = Math.floor(hits / 2)
    for (let i = 0; i < half; i++) await cache.get('present')
    if (wait) {
      if (++arrived === CONCURRENT) release()
      await barrier
    }
    for (let i = half; i < hits; i++) await cache.getOrSet('present', () => 'never')
    for (let i = 0; i < misses; i++) await cache.get(`absent:${i}`)
    return { hits, misses }
  }
  return { work, reset }
}

type Work = ReturnType<typeof makeWork>['work']
const args = (q: Record<string, unknown>) =>
  [Number(q['h'] ?? 0), Number(q['m'] ?? 0), q['wait'] === '1'] as const

const frameworks: Record<string, (work: Work) => Promise<Server>> = {
  async express(work) {
    const app = express()
    app.get('/page', expressAccounting(), async (req, res) => {
      res.json(await work(...args(req.query)))
    })
    app.get('/plain', async (req, res) => {
      res.json(await work(...args(req.query)))
    })
    return listen(createServer(app))
  },
  async fastify(work) {
    const app = Fastify()
    app.get('/page', { ...fastifyAccountingHooks() }, async (req) =>
      work(...args(req.query as object as Record<string, unknown>)),
    )
    app.get('/plain', async (req) => work(...args(req.query as Record<string, unknown>)))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() }
  },
  async hono(work) {
    const app = new Hono()
    app.get('/page', honoAccounting(), async (c) => c.json(await work(...args(c.req.query()))))
    app.get('/plain', async (c) => c.json(await work(...args(c.req.query()))))
    return listen(createAdaptorServer({ fetch: app.fetch }) as HttpServer)
  },
}

for (const [name, start] of Object.entries(frameworks)) {
  describe(`cacheAccounting on ${name}`, () => {
    let server: Server
    let cache: Cache
    let reset: () => void
    beforeAll(async () => {
      cache = createCache({ store: memoryStore(), prefix: `acct-${name}`, ttl: '1h' })
      await cache.set('present', 1)
      const made = makeWork(cache)
      reset = made.reset
      server = await start(made.work)
    })
    afterAll(async () => {
      await server?.close()
      await cache?.close()
    })

    it('sets X-Cache-Hits, X-Cache-Misses and X-Response-Time on the routes that mount it', async () => {
      const res = await fetch(`${server.url}/page?h=3&m=2`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ hits: 3, misses: 2 })
      expect(res.headers.get('x-cache-hits')).toBe('3')
      expect(res.headers.get('x-cache-misses')).toBe('2')
      expect(res.headers.get('x-response-time')).toMatch(/^\d+\.\d{3}ms$/)
    })

    it('leaves the other routes alone', async () => {
      const res = await fetch(`${server.url}/plain?h=1&m=1`)
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      expect(res.headers.get('x-cache-hits')).toBeNull()
      expect(res.headers.get('x-cache-misses')).toBeNull()
      expect(res.headers.get('x-response-time')).toBeNull()
    })

    it(`keeps the counts of ${CONCURRENT} overlapping requests apart`, async () => {
      reset()
      const plans = Array.from({ length: CONCURRENT }, (_, i) => ({ h: (i * 7) % 11, m: (i * 5) % 6 }))
      const before = cache.stats()
      const responses = await Promise.all(
        plans.map((p) => fetch(`${server.url}/page?h=${p.h}&m=${p.m}&wait=1`)),
      )
      for (const [i, res] of responses.entries()) {
        const plan = plans[i] as { h: number; m: number }
        expect(res.status).toBe(200)
        await res.arrayBuffer()
        expect([res.headers.get('x-cache-hits'), res.headers.get('x-cache-misses')]).toEqual([
          String(plan.h),
          String(plan.m),
        ])
      }
      // The same calls, counted by the cache itself.
      const after = cache.stats()
      expect(after.hits - before.hits).toBe(plans.reduce((n, p) => n + p.h, 0))
      expect(after.misses - before.misses).toBe(plans.reduce((n, p) => n + p.m, 0))
    })
  })
}
