/**
 * Request protection in an Express app: per-scope rate limits with IETF RateLimit headers, a login
 * guard against brute force keyed by the real client address behind a proxy, an admin unlock and
 * the lockout log, and a 6-digit staff PIN that lives 5 minutes and works once.
 * Runs on the memory store; set REDIS_URL to share the counters through Redis.
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { MemoryStore } from 'cachekit'
import { loginGuard, rateLimit } from 'cachekit/express'
import {
  createLoginGuard,
  createOneTimeCodes,
  createRateLimiter,
  type ProtectionStore,
  type TrustProxy,
} from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'
import express from 'express'

// The memory store in development; with REDIS_URL, one Redis shared by every instance of the app.
const redis = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : undefined
const store: ProtectionStore = redis ?? new MemoryStore()
// Which proxies may tell us the client address: here nginx on the same host. One value for the
// middleware and the login route, so both count the same client.
const trustProxy: TrustProxy = 'loopback'

const limiter = createRateLimiter({
  store,
  rules: { anon: '100/hour', user: '1000/hour', login: '10/min', owner: '200/min', employee: '100/min' },
})
const guard = createLoginGuard({ store, failureLimit: 5, coolOff: '15m', lockBy: [['username', 'ip']] })
// In production the secret comes from the environment (`openssl rand -base64 32`); a random one per
// start is fine for a demo: codes then do not survive a restart.
const pins = createOneTimeCodes({
  store,
  secret: process.env['OTP_SECRET'] ?? randomBytes(32),
  ttl: '5m',
  digits: 6,
  maxAttempts: 5,
  purpose: 'staff-pin',
})

// Let the store connect before taking traffic (bounded by its connect timeout).
await redis?.ready()

const app = express()
app.use(express.json())
// The login guard checks before the handler (a locked attempt gets 429 + Retry-After without a
// password check) and records the attempt from the handler's status: 4xx a failure, 2xx a success.
app.post(
  '/login',
  rateLimit({ limiter, scope: 'login', trustProxy }),
  loginGuard({ guard, trustProxy, username: (req) => String(req.body?.username ?? '') }),
  function login(req, res) {
    if (req.body?.password !== 'correct horse') {
      res.status(401).json({ error: 'wrong password' })
      return
    }
    res.json({ ok: true })
  },
)
// Admin: the lockout log and an unlock. Put these behind your admin authentication.
app.get('/admin/lockouts', async (_req, res) => {
  res.json(await guard.lockoutLog(50))
})
app.post('/admin/unlock', async (req, res) => {
  const unlocked = await guard.unlock({ username: req.body?.username, ip: req.body?.ip }, { by: 'admin' })
  res.json({ unlocked })
})
app.get(
  '/api/data',
  rateLimit({
    limiter,
    trustProxy,
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
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

const data = await fetch(`${base}/api/data`)
console.log(
  'GET /api/data',
  data.status,
  '| RateLimit-Policy:',
  data.headers.get('ratelimit-policy'),
  '| RateLimit:',
  data.headers.get('ratelimit'),
)

// The client as nginx reports it; the same user written three ways is one identity.
const statuses: number[] = []
for (const [i, username] of [
  'Mallory',
  ' mallory ',
  'ＭＡＬＬＯＲＹ',
  'mallory',
  'MALLORY',
  'mallory',
].entries()) {
  const r = await post('/login', { username, password: `guess-${i}` }, { 'x-forwarded-for': '203.0.113.9' })
  statuses.push(r.status)
}
console.log('6 wrong logins, one user spelt 5 ways ->', statuses.join(' '), '(401 x5, then locked out)')
const log = (await (await fetch(`${base}/admin/lockouts`)).json()) as unknown[]
console.log('lockout log:', JSON.stringify(log[0]))
console.log('admin unlock:', await (await post('/admin/unlock', { username: 'MALLORY' })).json())
const after = await post(
  '/login',
  { username: 'mallory', password: 'correct horse' },
  { 'x-forwarded-for': '203.0.113.9' },
)
console.log('login after unlock:', after.status)

const pin = await pins.issue('staff:17')
console.log(
  'staff PIN verifies once:',
  await pins.verify('staff:17', pin),
  await pins.verify('staff:17', pin),
)

await new Promise((resolve) => server.close(resolve))
await Promise.all([limiter.close(), guard.close(), pins.close()])
await redis?.close()
