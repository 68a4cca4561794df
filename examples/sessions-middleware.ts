/**
 * cachekit's own session middleware for Express (no express-session): the session is
 * `res.locals.session`, saved before the response goes out, with regeneration on login and a
 * logout that late writes cannot undo. Memory by default; with REDIS_URL, Redis.
 * Run: npx tsx examples/sessions-middleware.ts
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache, memoryStore } from 'cachekit'
import { redisStore } from 'cachekit/redis'
import { createSessions, expressSession, type RequestSession } from 'cachekit/session'
import express, { type Response } from 'express'

const url = process.env['REDIS_URL']
const cache = createCache({
  store: url ? redisStore({ url, timeout: 500 }) : memoryStore(),
  prefix: `example-${process.pid}`,
})
await cache.ready()
const secret = process.env['SESSION_SECRET'] ?? 'dev-only-secret-change-me-0123456789abcdef'
const sessions = createSessions({ cache, secret, ttl: '2h' })

const sessionOf = (res: Response): RequestSession => res.locals['session'] as RequestSession

const app = express()
// `secure: false` only because this example speaks plain HTTP on loopback.
app.use(expressSession({ sessions, cookie: { secure: false } }))
app.post('/login', async (req, res) => {
  await sessionOf(res).regenerate() // a new id on login: a planted id is worth nothing
  sessionOf(res).set('userId', String(req.query['user']))
  res.json({ ok: true })
})
app.post('/cart', async (req, res) => {
  await sleep(Number(req.query['delay'] ?? 0))
  sessionOf(res).set('cart', req.query['items'])
  res.json({ ok: true })
})
app.get('/me', (_req, res) => {
  res.json(sessionOf(res).toJSON())
})
app.post('/logout', async (_req, res) => {
  await sessionOf(res).destroy()
  res.json({ ok: true })
})

const server = createServer(app)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
let cookie = ''
async function call(path: string, method = 'GET', withCookie = cookie) {
  const reply = await fetch(base + path, { method, headers: { cookie: withCookie } })
  const set = reply.headers.getSetCookie()[0]
  if (set) cookie = set.split(';')[0] ?? ''
  return reply.json()
}

await call('/login?user=ann', 'POST')
await call('/cart?items=3', 'POST')
console.log('after login and a cart change:', await call('/me'))

// A slow request still in flight when the user logs out: its write does not bring the session back.
const late = call('/cart?items=9&delay=100', 'POST', cookie)
await sleep(20)
const loggedIn = cookie
await call('/logout', 'POST')
await late
console.log('old cookie after logout:', await call('/me', 'GET', loggedIn))

server.close()
await cache.close()
