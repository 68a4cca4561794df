/**
 * One HTTP server for bench/http-cache.ts, in its own process: `<framework> <mode>`, mode being
 * `const` (the handler returns a constant page: the limit), `cached` (the same page behind
 * cachekit's response cache, served from L1), `page` (Hono only: the same, with the route's handler
 * wrapped in `cachePage` instead of an `app.use` middleware) or `apicache` (Express only). Routes /page, and for
 * the safety checks /cookie, /me, /lang, /slow; /_cpu (uncached) reports the CPU time used so far.
 * Prints `{"port": n}` on stdout.
 */
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { serve } from '@hono/node-server'
import apicache from 'apicache'
import express from 'express'
import Fastify from 'fastify'
import { type Context, Hono } from 'hono'
import { MODULE_ENV } from './build.js'

type Http = typeof import('../../src/http/cache/index.js')
type Express = typeof import('../../src/http/express/index.js')
type Fast = typeof import('../../src/http/fastify/index.js')
type HonoDoor = typeof import('../../src/http/hono/index.js')
type Core = typeof import('../../src/index.js')

const built = process.env[MODULE_ENV]
const load = async <T>(sub: string, src: string): Promise<T> =>
  (await import(built ? pathToFileURL(path.join(path.dirname(built), sub)).href : src)) as T
const core = await load<Core>('index.js', '../../src/index.js')
const http = await load<Http>('http/cache/index.js', '../../src/http/cache/index.js')

export const BODY = `<!doctype html><html><head><title>Catalogue</title></head><body>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>'.repeat(16)}</body></html>`

const [framework, mode] = process.argv.slice(2)
/** CPU time this process has used, in µs: requests per CPU second do not depend on other load. */
const cpu = () => {
  const { user, system } = process.cpuUsage()
  return { us: user + system }
}
const cache = core.createCache({ store: core.memoryStore({ maxEntries: 10_000 }) })
const pages = http.responseCache({ cache, ttl: '1h' })
let slowRuns = 0
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const lang = (value: string | undefined) => (value?.startsWith('fr') ? 'bonjour' : 'hello')

let port: number
if (framework === 'express') {
  const door = await load<Express>('http/express/index.js', '../../src/http/express/index.js')
  const app = express()
  const api = apicache.newInstance({ defaultDuration: '1 hour' }).middleware()
  const mw = mode === 'cached' ? door.cacheResponses(pages) : mode === 'apicache' ? api : undefined
  if (mw) app.use(['/page', '/cookie', '/lang', '/slow', '/me'], mw)
  app.get('/page', (_req, res) => void res.type('html').send(BODY))
  let n = 0
  app.get('/cookie', (_req, res) => void res.cookie('sid', `session-${++n}`).send('hi'))
  app.get('/me', (req, res) => void res.send(`profile of ${req.get('authorization')}`))
  app.get(
    '/lang',
    (req, res) => void res.set('Vary', 'Accept-Language').send(lang(req.get('accept-language'))),
  )
  app.get('/slow', async (_req, res) => {
    slowRuns++
    await sleep(200)
    res.send('slow')
  })
  app.get('/_runs', (_req, res) => void res.json({ slow: slowRuns }))
  app.get('/_cpu', (_req, res) => void res.json(cpu()))
  app.set('etag', true)
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  port = (server.address() as AddressInfo).port
} else if (framework === 'fastify') {
  const door = await load<Fast>('http/fastify/index.js', '../../src/http/fastify/index.js')
  const app = Fastify()
  await app.register(async (scope) => {
    if (mode === 'cached') await scope.register(door.cacheResponses(pages))
    scope.get('/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send(BODY))
  })
  app.get('/_cpu', async () => cpu())
  await app.listen({ port: 0, host: '127.0.0.1' })
  port = (app.server.address() as AddressInfo).port
} else {
  const door = await load<HonoDoor>('http/hono/index.js', '../../src/http/hono/index.js')
  const app = new Hono()
  if (mode === 'cached') app.use('/page', door.cacheResponses(pages))
  const page = (c: Context) => c.html(BODY)
  app.get('/page', mode === 'page' ? door.cachePage(pages, page) : page)
  app.get('/_cpu', (c) => c.json(cpu()))
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  port = (server.address() as AddressInfo).port
}
process.stdout.write(`${JSON.stringify({ port })}\n`)
process.once('SIGINT', () => process.exit(0)) // lets --cpu-prof write its profile
