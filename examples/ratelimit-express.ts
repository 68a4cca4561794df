/**
 * Request protection in an Express app: per-scope rate limits with IETF RateLimit headers, a login
 * guard against brute force, and a 6-digit staff PIN that lives 5 minutes and works once.
 * Runs on the memory store; set REDIS_URL to share the counters through Redis.
 */
import type { AddressInfo } from 'node:net'
import { MemoryStore } from 'cachekit'
import { rateLimit } from 'cachekit/express'
import {
  createLoginGuard,
  createOneTimeCodes,
  createRateLimiter,
  type ProtectionStore,
  retryAfterSeconds,
} from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'
import express from 'express'

// The memory store in development; with REDIS_URL, one Redis shared by every instance of the app.
const redis = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : undefined
const store: ProtectionStore = redis ?? new MemoryStore()
const close = async () => redis?.close()

const limiter = createRateLimiter({
  store,
  rules: { anon: '100/hour', user: '1000/hour', login: '5/min', owner: '200/min', employee: '100/min' },
})
const guard = createLoginGuard({ store, failureLimit: 5, coolOff: '15m', lockBy: [['username', 'ip']] })
const pins = createOneTimeCodes({ store, ttl: '5m', digits: 6, maxAttempts: 5 })

const app = express()
app.use(express.json())
app.post('/login', rateLimit({ limiter, scope: 'login' }), async function login(req, res) {
  const attempt = { username: String(req.body?.username ?? ''), ip: req.socket.remoteAddress }
  const check = await guard.check(attempt)
  if (check.locked) {
    const retry = retryAfterSeconds(check.retryAfterMs)
    if (retry) res.set('Retry-After', retry)
    res.status(429).type('application/problem+json').send({ title: 'Locked out', status: 429 })
    return
  }
  if (req.body?.password !== 'correct horse') {
    await guard.fail(attempt)
    res.status(401).json({ error: 'wrong password' })
    return
  }
  await guard.succeed(attempt)
  res.json({ ok: true })
})
app.get(
  '/api/data',
  rateLimit({
    limiter,
    scope: (req) => (req.get('x-user') ? 'user' : 'anon'),
    key: (req) => req.get('x-user'),
  }),
  (_req, res) => {
    res.json({ data: 42 })
  },
)

const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const data = await fetch(`${base}/api/data`)
console.log(
  'GET /api/data',
  data.status,
  '| RateLimit-Policy:',
  data.headers.get('ratelimit-policy'),
  '| RateLimit:',
  data.headers.get('ratelimit'),
)

const statuses: number[] = []
for (let i = 0; i < 7; i++) {
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'mallory', password: `guess-${i}` }),
  })
  statuses.push(r.status)
}
console.log('7 wrong logins ->', statuses.join(' '), '(401 x5, then locked out)')

const pin = await pins.issue('staff:17')
console.log(
  'staff PIN verifies once:',
  await pins.verify('staff:17', pin),
  await pins.verify('staff:17', pin),
)

await new Promise((resolve) => server.close(resolve))
await close()
