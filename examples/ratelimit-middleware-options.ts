/**
 * express-rate-limit's everyday options in the Express door (the Fastify and Hono doors take the
 * same ones): count failed logins only (`skipSuccessfulRequests`), a custom answer for refused
 * requests (`handler`), the decision on `req.rateLimit`, and the RateLimit header draft.
 */
import type { AddressInfo } from 'node:net'
import { MemoryStore } from 'cachekit'
import { rateLimit } from 'cachekit/express'
import { createRateLimiter } from 'cachekit/ratelimit'
import express from 'express'

const limiter = createRateLimiter({ store: new MemoryStore(), rules: { login: '3/15m' } })

const app = express()
app.use(express.json())
app.post(
  '/login',
  rateLimit({
    limiter,
    scope: 'login',
    key: (req) => String(req.body?.username ?? ''),
    skipSuccessfulRequests: true,
    headers: { draft: 7 },
    handler: (_req, res, _next, result) => {
      res
        .status(429)
        .json({ error: 'too many failed logins', retryInSeconds: Math.ceil(result.retryAfterMs / 1000) })
    },
  }),
  (req, res) => {
    if (req.body?.password !== 'correct horse') {
      res.status(401).json({ error: 'wrong password', attemptsLeft: req.rateLimit?.remaining })
      return
    }
    res.json({ ok: true })
  },
)

const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/login`
const login = (password: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password }),
  })

// Successful logins are given back: they never use up the allowance.
const good = []
for (let i = 0; i < 5; i++) good.push((await login('correct horse')).status)
console.log('5 good logins:', good.join(' '))

const first = await login('guess')
console.log('a wrong one:', first.status, await first.json(), '| RateLimit:', first.headers.get('ratelimit'))
await login('guess')
await login('guess')
const refused = await login('guess')
console.log('the 4th wrong one:', refused.status, await refused.json())

await new Promise((resolve) => server.close(resolve))
await limiter.close()
