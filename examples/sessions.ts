/**
 * Sessions in the cache the app already has: express-session over cachekit sessions, with
 * regeneration on login, concurrent requests that all keep their changes, and "log out
 * everywhere". Memory by default; with REDIS_URL, Redis (every instance sees the same sessions).
 * Run: npx tsx examples/sessions.ts   or   REDIS_URL=redis://127.0.0.1:6379/0 npx tsx examples/sessions.ts
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createCache, memoryStore } from 'cachekit'
import { redisStore } from 'cachekit/redis'
import { createSessions, expressSessionStore } from 'cachekit/session'
import express from 'express'
import session from 'express-session'

declare module 'express-session' {
  interface SessionData {
    userId?: string
    [field: string]: unknown
  }
}

const url = process.env['REDIS_URL']
const cache = createCache({
  store: url ? redisStore({ url, timeout: 500 }) : memoryStore(),
  prefix: `example-${process.pid}`,
})
await cache.ready()

// The secret keys the hash that stands for each session id in the store: from configuration.
const secret = process.env['SESSION_SECRET'] ?? 'dev-only-secret-change-me-0123456789abcdef'
const sessions = createSessions({ cache, secret, ttl: '2h' })

const app = express()
app.use(
  session({
    store: expressSessionStore(sessions),
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 2 * 3600_000, httpOnly: true, sameSite: 'lax' },
  }),
)
app.post('/login', (req, res, next) => {
  // A new id on login: a session id planted before login (fixation) is worth nothing after it.
  req.session.regenerate((error) => {
    if (error) return next(error)
    req.session.userId = String(req.query['user'])
    res.json({ ok: true })
  })
})
app.post('/prefs/:name', (req, res) => {
  req.session[`pref_${req.params.name}`] = req.query['value']
  res.json({ ok: true })
})
app.get('/me', (req, res) => {
  const { cookie: _, ...data } = req.session as unknown as Record<string, unknown>
  res.json(data)
})
app.post('/logout-everywhere', async (req, res) => {
  res.json({ destroyed: await sessions.destroyUser(String(req.session.userId), { except: req.sessionID }) })
})

const server = createServer(app)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

/** A tiny browser: one cookie, carried between requests. */
function browser() {
  let cookie = ''
  return async (path: string, method = 'GET') => {
    const reply = await fetch(base + path, { method, headers: { cookie } })
    const set = reply.headers.getSetCookie()[0]
    if (set) cookie = set.split(';')[0] ?? ''
    return reply.json()
  }
}

const laptop = browser()
const phone = browser()
await laptop('/login?user=ann', 'POST')
await phone('/login?user=ann', 'POST')

// Three requests at once, each changing another field: all three changes stay.
await Promise.all(['theme', 'lang', 'tz'].map((name) => laptop(`/prefs/${name}?value=${name}-set`, 'POST')))
console.log('laptop session after 3 concurrent writes:', await laptop('/me'))
console.log('ann is signed in on', (await sessions.sessionsOf('ann')).length, 'devices')

console.log('log out everywhere else:', await laptop('/logout-everywhere', 'POST'))
console.log('phone session now:', await phone('/me'))
console.log('laptop session still:', await laptop('/me'))

await sessions.clear()
server.close()
await cache.close()
