import { createServer } from 'node:http'
/**
 * An attacker's view of the HTTP doors: real Express, Fastify and Hono servers on loopback, real
 * HTTP requests with forged X-Forwarded-For / Forwarded headers, counters in memory and in a real
 * Redis. The test client is the "proxy" (127.0.0.1, trusted as one hop): each header is what the
 * proxy would send on, the client's forged entries first, the proxy's own entry last.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import fc from 'fast-check'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rateLimit as expressRateLimit } from '../../src/http/express/index.js'
import { rateLimit as fastifyRateLimit } from '../../src/http/fastify/index.js'
import { rateLimit as honoRateLimit } from '../../src/http/hono/index.js'
import type { RateLimitMiddlewareOptions } from '../../src/http/rate-limit-decider.js'
import { MemoryStore } from '../../src/index.js'
import {
  type ClientIpOptions,
  clientIp,
  createLoginGuard,
  createRateLimiter,
  type LoginGuard,
  type ProtectionStore,
} from '../../src/ratelimit/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { listen } from '../support/listen.js'
import { hasRedis } from '../support/ratelimit.js'
import { type RedisServer, startRedis } from '../support/redis.js'

interface Door {
  url: string
  close(): Promise<void>
}
type Limits = Pick<RateLimitMiddlewareOptions<unknown>, 'trustProxy' | 'forwardedHeader' | 'allowList'> & {
  /** Key by the `u` query parameter (`key: 'user'`) instead of the client address. */
  byUser?: boolean
}
/** A server with `/limited` behind the rate limit door and `POST /login` behind the guard. */
type Boot = (
  store: ProtectionStore,
  limits: Limits,
  guard: LoginGuard,
  trust: ClientIpOptions,
) => Promise<Door>

const RULES = { api: '3/min' } as const
let n = 0
const limiterOn = (store: ProtectionStore) =>
  createRateLimiter({ store, rules: RULES, prefix: `forged-${process.pid}-${n++}` })

async function login(guard: LoginGuard, username: string, ip: string | undefined, password: string) {
  const attempt = { username, ip }
  const check = await guard.check(attempt)
  if (check.locked) return 429
  if (password === 'right') {
    await guard.succeed(attempt)
    return 200
  }
  await guard.fail(attempt)
  return 401
}

const doors: Record<string, Boot> = {
  async express(store, limits, guard, trust) {
    const app = express()
    app.use(express.json())
    app.get(
      '/limited',
      expressRateLimit({
        limiter: limiterOn(store),
        scope: 'api',
        ...limits,
        ...(limits.byUser ? { key: 'user' as const, user: (req) => req.query['u'] as string } : {}),
      }),
      (_req, res) => {
        res.json({ ok: true })
      },
    )
    app.post('/login', async (req, res) => {
      res.sendStatus(await login(guard, req.body.username, clientIp(req, trust), req.body.password))
    })
    return listen(createServer(app))
  },
  async fastify(store, limits, guard, trust) {
    const app = Fastify()
    app.register(async (scope) => {
      await scope.register(
        fastifyRateLimit({
          limiter: limiterOn(store),
          scope: 'api',
          ...limits,
          ...(limits.byUser ? { key: 'user' as const, user: (req) => (req.query as { u?: string }).u } : {}),
        }),
      )
      scope.get('/limited', async () => ({ ok: true }))
    })
    app.post('/login', async (req, reply) => {
      const body = req.body as { username: string; password: string }
      reply.code(await login(guard, body.username, clientIp(req, trust), body.password)).send('')
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() }
  },
  async hono(store, limits, guard, trust) {
    const app = new Hono()
    app.get(
      '/limited',
      honoRateLimit({
        limiter: limiterOn(store),
        scope: 'api',
        ...limits,
        ...(limits.byUser ? { key: 'user' as const, user: (c) => c.req.query('u') } : {}),
      }),
      (c) => c.json({ ok: true }),
    )
    app.post('/login', async (c) => {
      const body = await c.req.json<{ username: string; password: string }>()
      return c.body(null, (await login(guard, body.username, clientIp(c, trust), body.password)) as 200)
    })
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((r) => server.close(() => r())),
    }
  },
}

const rand = (max: number) => Math.floor(Math.random() * max)
const randomV4 = () => `${1 + rand(223)}.${rand(256)}.${rand(256)}.${rand(256)}`
const hex = () => rand(0x10000).toString(16)

async function statuses(url: string, headers: () => Record<string, string>, count = 20) {
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push((await fetch(url, { headers: headers() })).status)
  return out
}
const passed = (s: number[]) => s.filter((x) => x === 200).length

const stores: Record<string, () => ProtectionStore> = { memory: () => new MemoryStore() }
let redis: RedisServer | undefined
const redisStores: RedisStore[] = []
if (hasRedis) {
  stores['redis'] = () => {
    const store = redisStore({ url: (redis as RedisServer).url })
    redisStores.push(store)
    return store
  }
}
beforeAll(async () => {
  if (hasRedis) redis = await startRedis()
})
afterAll(async () => {
  for (const s of redisStores) await s.close()
  await redis?.stop()
})

for (const [doorName, boot] of Object.entries(doors)) {
  for (const [storeName, makeStore] of Object.entries(stores)) {
    describe(`${doorName} door, ${storeName} store, forged headers`, () => {
      const open: Door[] = []
      afterAll(async () => {
        for (const d of open) await d.close()
      })
      const start = async (limits: Limits, guardOptions: Parameters<typeof createLoginGuard>[0] = {}) => {
        const store = makeStore()
        const trust = { trustProxy: limits.trustProxy, header: limits.forwardedHeader }
        const guard = createLoginGuard({
          store,
          prefix: `forged-guard-${process.pid}-${n++}`,
          ...guardOptions,
        })
        const door = await boot(store, limits, guard, trust)
        open.push(door)
        return door.url
      }

      it('ip:port entries from the proxy: 20 forged requests, 3 pass a 3/min limit', async () => {
        const url = await start({ trustProxy: 1, allowList: ['127.0.0.1', '::1'] })
        const got = await statuses(`${url}/limited`, () => ({
          'x-forwarded-for': `${randomV4()}, 127.0.0.1, 203.0.113.7:${1024 + rand(60000)}`,
        }))
        expect(passed(got)).toBe(3)
        const v6 = await statuses(`${url}/limited`, () => ({
          'x-forwarded-for': `${randomV4()}, [2001:DB8:1:2:${hex()}:${hex()}::${hex()}]:${1 + rand(65000)}`,
        }))
        expect(passed(v6)).toBe(3)
      })

      it("'unknown' from the proxy: forged entries never take its place", async () => {
        const url = await start({ trustProxy: 1 })
        const got = await statuses(`${url}/limited`, () => ({
          'x-forwarded-for': `${randomV4()}, ${randomV4()}, unknown`,
        }))
        expect(passed(got)).toBe(3)
      })

      it('a forged 127.0.0.1 never reaches the allow list', async () => {
        const url = await start({ trustProxy: 1, allowList: ['127.0.0.1', '::1', '10.0.0.0/8'] })
        const got = await statuses(`${url}/limited`, () => ({
          'x-forwarded-for': `127.0.0.1, ::1, 10.0.0.1, 198.51.100.20:${rand(9000) + 1000}`,
        }))
        expect(passed(got)).toBe(3)
        // The proxy's own health check (no header) is the proxy itself: allowed.
        expect(passed(await statuses(`${url}/limited`, () => ({}), 5))).toBe(5)
      })

      it('RFC 7239 Forwarded, with quoted IPv6 and ports; X-Forwarded-For ignored then', async () => {
        const url = await start({ trustProxy: 'loopback', forwardedHeader: 'forwarded' })
        const got = await statuses(`${url}/limited`, () => ({
          forwarded: `for=${randomV4()};proto=https, for="[2001:db8:cafe:1:${hex()}::${hex()}]:4711"`,
          'x-forwarded-for': randomV4(),
        }))
        expect(passed(got)).toBe(3)
      })

      it("key: 'user': one user written many ways is one bucket", async () => {
        const url = await start({ byUser: true })
        const names = ['Alice', ' alice', 'ALICE ', 'ａｌｉｃｅ', 'aLiCe', 'alice']
        const got: number[] = []
        for (const name of names) {
          got.push((await fetch(`${url}/limited?u=${encodeURIComponent(name)}`)).status)
        }
        expect(got).toEqual([200, 200, 200, 429, 429, 429])
      })

      it('login guard by IP: 50 addresses of one IPv6 /64 with ports count as one client', async () => {
        const url = await start({ trustProxy: 1 }, { failureLimit: 5, lockBy: ['ip'] })
        const codes: number[] = []
        for (let i = 0; i < 50; i++) {
          const response = await fetch(`${url}/login`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-forwarded-for': `${randomV4()}, [2001:0DB8:00aa:0001:${hex()}:${hex()}:${hex()}:${hex()}]:${1 + rand(65000)}`,
            },
            body: JSON.stringify({ username: `u${i}`, password: 'wrong' }),
          })
          codes.push(response.status)
        }
        expect(codes.filter((c) => c === 401)).toHaveLength(5)
        expect(codes.slice(5).every((c) => c === 429)).toBe(true)
      })

      it('login guard by username: one login written six ways is one user', async () => {
        const url = await start({ trustProxy: 1 }, { failureLimit: 3, lockBy: ['username'] })
        const codes: number[] = []
        for (const username of [
          'alice@example.com',
          'Alice@Example.com',
          ' alice@example.com ',
          'ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ',
          'ALICE@EXAMPLE.COM',
          'alice@example.com',
        ]) {
          const response = await fetch(`${url}/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': randomV4() },
            body: JSON.stringify({ username, password: 'wrong' }),
          })
          codes.push(response.status)
        }
        expect(codes).toEqual([401, 401, 401, 429, 429, 429])
      })
    })
  }
}

/** What a trusted proxy may append for the client it saw, and what the client may have forged. */
const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'))
const v6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((n) => n.toString(16)).join(':'))
const port = fc.integer({ min: 1, max: 65535 })
// The client the proxy saw is never on the allow list below (10.0.0.0/8, 127.0.0.1, ::1): an
// allow-listed client rightly passes every time, which is not what this property is about.
const clientV4 = v4.filter((ip) => !ip.startsWith('10.') && !ip.startsWith('127.'))
const clientV6 = v6.filter((ip) => ip !== '0:0:0:0:0:0:0:1')
const proxyEntry = fc.oneof(
  clientV4,
  fc.tuple(clientV4, port).map(([ip, p]) => `${ip}:${p}`),
  fc.tuple(clientV6, port).map(([ip, p]) => `[${ip}]:${p}`),
  fc.constantFrom('unknown', '_obfuscated', 'garbage'),
)
const forgedEntry = fc.oneof(
  v4,
  v6,
  fc.constantFrom('127.0.0.1', '::1', 'unknown', '', '10.0.0.1:80', '[::1]:1'),
)

for (const [doorName, boot] of Object.entries(doors)) {
  describe(`${doorName} door, property`, () => {
    it('whatever a client forges in front of its proxy-written entry, 20 requests pass a 3/min limit 3 times at most', async () => {
      await fc.assert(
        fc.asyncProperty(
          proxyEntry,
          fc.array(fc.array(forgedEntry, { maxLength: 4 }), { minLength: 20, maxLength: 20 }),
          async (real, forgeries) => {
            const store = new MemoryStore()
            const guard = createLoginGuard({ store })
            const door = await boot(
              store,
              { trustProxy: 1, allowList: ['127.0.0.1', '::1', '10.0.0.0/8'] },
              guard,
              {
                trustProxy: 1,
              },
            )
            try {
              let ok = 0
              for (const forged of forgeries) {
                const header = [...forged, real].join(', ')
                if (
                  (await fetch(`${door.url}/limited`, { headers: { 'x-forwarded-for': header } })).status ===
                  200
                )
                  ok++
              }
              expect(ok).toBe(3)
            } finally {
              await door.close()
            }
          },
        ),
        { numRuns: 15 },
      )
    }, 120_000)
  })
}
