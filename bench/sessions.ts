/**
 * Sessions: Express requests that read and write their session, served over real HTTP on loopback:
 * cachekit's own middleware (`expressSession`), express-session over cachekit's store, and
 * express-session over connect-redis, all on the same Redis. Each operation is one request that
 * reads its session and changes one field (a write on every request: the worst case for cachekit's
 * merge, which writes only what changed). 16 browsers, each with its own session, send their
 * requests at the same time. Round trips per request are counted through a proxy.
 */
import { Agent, createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import express, { type Request, type RequestHandler, type Response } from 'express'
import session, { type Store } from 'express-session'
import { createClient } from 'redis'
import { createCache } from './lib/cachekit.js'
import { redisStore } from './lib/cachekit-redis.js'
import { createSessions, expressSession, expressSessionStore } from './lib/cachekit-session.js'
import { ops, percent, table } from './lib/format.js'
import { type Measured, measure, type OpTask, pairedRatio, roundsNote } from './lib/measure.js'
import { type BenchRedis, withBenchRedis } from './lib/redis-server.js'
import { startRoundTripCounter } from './lib/round-trips.js'
import { defineScenario, progress, ratioTarget } from './lib/scenario.js'

const SECRET = 'bench-secret-0123456789abcdef0123456789'
const BROWSERS = 16
const MW = 'cachekit expressSession middleware'
const CK = 'express-session + cachekit expressSessionStore'
const CR = 'express-session + connect-redis'
/** The ceiling: express-session's own in-process MemoryStore, no Redis at all. */
const MEM = 'limit: express-session MemoryStore (no Redis)'
const FULL = { time: 1500, warmupTime: 300, rounds: 6 }
const QUICK = { time: 300, warmupTime: 100, rounds: 2 }

interface App {
  readonly url: string
  readonly agent: Agent
  close(): Promise<void>
}

export default defineScenario({
  title: '10. Sessions: express-session requests per second and Redis round trips per request',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const trips = new Map<string, number>()
  for (const name of [MW, CK, CR]) trips.set(name, await countTrips(server, name))
  const apps = new Map<string, App>()
  const closers: (() => Promise<void>)[] = []
  for (const name of [MW, CK, CR, MEM]) {
    const made = await makeStore(server.url, name)
    closers.push(made.close)
    apps.set(name, await serve(made))
  }
  try {
    const tasks: OpTask[] = []
    for (const [name, app] of apps) {
      const cookies = await login(app)
      tasks.push({ name, async: true, ops: BROWSERS, fn: () => Promise.all(cookies.map((c) => hit(app, c))) })
    }
    const options = quick ? QUICK : FULL
    progress(`${tasks.length} tasks × ${options.rounds} rounds`)
    const results = await measure(tasks, options)
    const theirs = results.get(CR) as Measured
    const speedup = pairedRatio(results.get(MW) as Measured, theirs)
    const viaStore = pairedRatio(results.get(CK) as Measured, theirs)
    const ceiling = pairedRatio(results.get(MEM) as Measured, theirs)
    const rows = [MW, CK, CR, MEM].map((name) => {
      const m = results.get(name) as Measured
      return [name, ops(m.opsPerSec), percent(m.spread), String(trips.get(name) ?? 0)]
    })
    const body = [
      'One request = read the session, change one field, save. 16 sessions, 16 requests at a time,',
      'express 5 on loopback; every Redis row on the same bench Redis (node-redis).',
      roundsNote(options),
      '',
      table(['store', 'requests/s', 'spread', 'round trips / request'], rows),
      '',
      `The limit row keeps sessions in express-session's own memory: no store behind express-session could`,
      `serve these requests faster. It runs at ${ceiling.toFixed(2)}x connect-redis, and cachekit's store behind`,
      `express-session at ${viaStore.toFixed(2)}x: there, express-session's own work per request (hashing the`,
      'session, signing the cookie) bounds any store. The target row is cachekit without express-session.',
    ].join('\n')
    return {
      body,
      targets: [ratioTarget(`${MW} vs ${CR}, requests per second`, speedup, '>=', 1.2)],
    }
  } finally {
    for (const app of apps.values()) await app.close()
    for (const close of closers) await close()
  }
}

/** What serves a row's sessions: a middleware of its own, or a store behind express-session. */
interface Made {
  readonly middleware: RequestHandler
  close(): Promise<void>
}

const behindExpressSession = (store: Store): RequestHandler =>
  session({ store, secret: SECRET, resave: false, saveUninitialized: false })

async function makeStore(url: string, name: string): Promise<Made> {
  if (name === MEM)
    return { middleware: behindExpressSession(new session.MemoryStore()), close: async () => {} }
  if (name === CK || name === MW) {
    const cache = createCache({ store: redisStore({ url, timeout: 2000 }), prefix: 'bench' })
    await cache.ready()
    const sessions = createSessions({ cache, secret: SECRET, ttl: '1h' })
    const middleware =
      name === MW
        ? expressSession({ sessions, cookie: { secure: false } })
        : behindExpressSession(expressSessionStore(sessions))
    return { middleware, close: () => cache.close() }
  }
  const client = createClient({ url })
  await client.connect()
  return {
    middleware: behindExpressSession(new ConnectRedisStore({ client, prefix: 'bench-cr:', ttl: 3600 })),
    close: () => client.close(),
  }
}

/** The session a request sees: express-session's `req.session`, or cachekit's `res.locals.session`. */
interface Fields {
  get(field: string): unknown
  set(field: string, value: unknown): void
}

function fieldsOf(req: Request, res: Response): Fields {
  const own = res.locals['session'] as Fields | undefined
  if (own !== undefined) return own
  const data = req.session as unknown as Record<string, unknown>
  return { get: (field) => data[field], set: (field, value) => (data[field] = value) }
}

async function serve(made: Made): Promise<App> {
  const app = express()
  app.use(made.middleware)
  app.post('/login', (req, res) => {
    fieldsOf(req, res).set('userId', 'u')
    res.end('ok')
  })
  app.get('/hit', (req, res) => {
    const fields = fieldsOf(req, res)
    fields.set('n', ((fields.get('n') as number | undefined) ?? 0) + 1)
    res.end('ok')
  })
  const server: Server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const agent = new Agent({ keepAlive: true, maxSockets: BROWSERS })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    agent,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function send(app: App, method: string, path: string, cookie: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${app.url}${path}`, { method, agent: app.agent, headers: { cookie } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers['set-cookie']?.[0]?.split(';')[0] ?? cookie))
    })
    req.on('error', reject)
    req.end()
  })
}

async function login(app: App): Promise<string[]> {
  return Promise.all(Array.from({ length: BROWSERS }, () => send(app, 'POST', '/login', '')))
}

function hit(app: App, cookie: string): Promise<string> {
  return send(app, 'GET', '/hit', cookie)
}

/** Round trips per request, one request at a time, through a counting proxy. */
async function countTrips(server: BenchRedis, name: string): Promise<number> {
  const counter = await startRoundTripCounter(server.port)
  const made = await makeStore(counter.url, name)
  const app = await serve(made)
  try {
    const [cookie] = await login(app)
    await hit(app, cookie as string)
    const n = 50
    const before = counter.turns()
    for (let i = 0; i < n; i++) await hit(app, cookie as string)
    return (counter.turns() - before) / n
  } finally {
    await app.close()
    await made.close()
    await counter.close()
  }
}
