/**
 * The same small site on Express, Fastify and Hono (@hono/node-server), each behind the
 * framework's response-cache door (on Hono, both forms: middleware and per-route `cachePage`),
 * for the HTTP bars. Every app listens on a free loopback port.
 */

import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { type Handler, Hono } from 'hono'
import type { ResponseCache } from '../../src/http/cache/index.js'
import { cacheResponses as expressCache } from '../../src/http/express/index.js'
import { cacheResponses as fastifyCache } from '../../src/http/fastify/index.js'
import { cacheResponses as honoCache, cachePage as honoPage } from '../../src/http/hono/index.js'
import { type Listening, listen } from './listen.js'

/** `hono` mounts the cache as `app.use` middleware, `hono-route` wraps each route's handler in `cachePage`. */
export type Framework = 'express' | 'fastify' | 'hono' | 'hono-route'
export const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'hono', 'hono-route']

export interface Caches {
  /** Shared pages: /page, /cookie, /late-cookie, /lang, /cold, /tagged, /big. */
  readonly pages: ResponseCache
  /** Per-user pages: /me (key from `x-user`). */
  readonly perUser: ResponseCache
  /** Short TTL with grace: /graced. */
  readonly graced: ResponseCache
}

/** What the handlers did, for assertions; and a gate the /graced and /cold handlers wait on. */
export class Site {
  runs = new Map<string, number>()
  gate: Promise<void> = Promise.resolve()
  version = 1
  count(route: string): number {
    const n = (this.runs.get(route) ?? 0) + 1
    this.runs.set(route, n)
    return n
  }
}

export type Running = Listening

const PAGE = (n: number, v: number) => `<!doctype html><p>page ${v} run ${n}</p>`

/** Greeting per Accept-Language. */
function greet(lang: string | undefined): string {
  return lang?.startsWith('fr') ? 'bonjour' : lang?.startsWith('de') ? 'hallo' : 'hello'
}

export async function startApp(framework: Framework, caches: Caches, site: Site): Promise<Running> {
  if (framework === 'express') return startExpress(caches, site)
  if (framework === 'fastify') return startFastify(caches, site)
  return startHono(caches, site, framework === 'hono' ? 'middleware' : 'route')
}

/** Express middleware that sets `cookie` when the response head is written, not before. */
function cookieOnWriteHead(cookie: string): express.RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      this.setHeader('Set-Cookie', cookie)
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
    } as typeof res.writeHead
    next()
  }
}

async function startExpress(c: Caches, site: Site): Promise<Running> {
  const app = express()
  // Mounted before the cache: sets a cookie when the head goes out, after the cache has looked.
  app.use('/late-cookie-outer', cookieOnWriteHead('outer=1; Path=/'))
  app.use(
    ['/page', '/cookie', '/late-cookie', '/late-cookie-outer', '/lang', '/cold', '/tagged', '/big'],
    expressCache(c.pages),
  )
  app.use('/me', expressCache(c.perUser))
  app.use('/graced', expressCache(c.graced))
  // Mounted after the cache, adding its cookie only when the head is written.
  app.use('/late-cookie', cookieOnWriteHead('late=1; Path=/'))
  app.get('/page', (_req, res) => {
    const n = site.count('page')
    res.setHeader('X-Custom-Header', 'One')
    res.append('X-Multi', 'a')
    res.append('X-Multi', 'b')
    res.setHeader('Content-Language', 'en')
    res.type('html').send(PAGE(n, site.version))
  })
  app.get('/cookie', (_req, res) => {
    const n = site.count('cookie')
    res.cookie('sid', `user-${n}`).send(`cookie ${n}`)
  })
  app.get('/late-cookie', (_req, res) => res.send(`late ${site.count('late-cookie')}`))
  app.get('/late-cookie-outer', (_req, res) => res.send(`outer ${site.count('late-cookie-outer')}`))
  app.get('/lang', (req, res) => {
    site.count('lang')
    res.setHeader('Vary', 'Accept-Language')
    res.send(greet(req.get('accept-language')))
  })
  app.get('/me', (req, res) => {
    site.count('me')
    res.send(`profile of ${req.get('x-user')}`)
  })
  app.get('/graced', async (_req, res) => {
    const n = site.count('graced')
    await site.gate
    res.send(`graced ${n}`)
  })
  app.get('/cold', async (_req, res) => {
    const n = site.count('cold')
    await site.gate
    res.send(`cold ${n}`)
  })
  app.get('/tagged', (_req, res) => res.send(`tagged ${site.count('tagged')} v${site.version}`))
  app.get('/big', (_req, res) => res.send('x'.repeat(4096)))
  return listen(createServer(app))
}

async function startFastify(c: Caches, site: Site): Promise<Running> {
  const app = Fastify()
  await app.register(async (scope) => {
    await scope.register(fastifyCache(c.pages))
    // Registered after the cache's: runs after its onSend, adding a cookie late.
    scope.addHook('onSend', async (request, reply, payload) => {
      if (request.url.startsWith('/late-cookie')) reply.header('set-cookie', 'late=1; Path=/')
      return payload
    })
    scope.get('/page', async (_req, reply) => {
      const n = site.count('page')
      reply.header('x-custom-header', 'One')
      reply.header('x-multi', ['a', 'b'])
      reply.header('content-language', 'en')
      reply.type('text/html; charset=utf-8')
      return PAGE(n, site.version)
    })
    scope.get('/cookie', async (_req, reply) => {
      const n = site.count('cookie')
      reply.header('set-cookie', `sid=user-${n}; Path=/`)
      return `cookie ${n}`
    })
    scope.get('/late-cookie', async () => `late ${site.count('late-cookie')}`)
    scope.get('/lang', async (req, reply) => {
      site.count('lang')
      reply.header('vary', 'Accept-Language')
      return greet(req.headers['accept-language'])
    })
    scope.get('/cold', async () => {
      const n = site.count('cold')
      await site.gate
      return `cold ${n}`
    })
    scope.get('/tagged', async () => `tagged ${site.count('tagged')} v${site.version}`)
    scope.get('/big', async () => 'x'.repeat(4096))
  })
  await app.register(async (scope) => {
    await scope.register(fastifyCache(c.perUser))
    scope.get('/me', async (req) => {
      site.count('me')
      return `profile of ${req.headers['x-user']}`
    })
  })
  await app.register(async (scope) => {
    await scope.register(fastifyCache(c.graced))
    scope.get('/graced', async () => {
      const n = site.count('graced')
      await site.gate
      return `graced ${n}`
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}`, port, close: () => app.close() }
}

async function startHono(c: Caches, site: Site, form: 'middleware' | 'route'): Promise<Running> {
  const app = new Hono()
  const handlers: Record<string, [ResponseCache, Handler]> = {
    '/page': [
      c.pages,
      (ctx) => {
        const n = site.count('page')
        ctx.header('X-Custom-Header', 'One')
        ctx.header('X-Multi', 'a')
        ctx.header('X-Multi', 'b', { append: true })
        ctx.header('Content-Language', 'en')
        return ctx.html(PAGE(n, site.version))
      },
    ],
    '/cookie': [
      c.pages,
      (ctx) => {
        const n = site.count('cookie')
        ctx.header('Set-Cookie', `sid=user-${n}; Path=/`)
        return ctx.text(`cookie ${n}`)
      },
    ],
    '/late-cookie': [c.pages, (ctx) => ctx.text(`late ${site.count('late-cookie')}`)],
    '/lang': [
      c.pages,
      (ctx) => {
        site.count('lang')
        ctx.header('Vary', 'Accept-Language')
        return ctx.text(greet(ctx.req.header('accept-language')))
      },
    ],
    '/me': [
      c.perUser,
      (ctx) => {
        site.count('me')
        return ctx.text(`profile of ${ctx.req.header('x-user')}`)
      },
    ],
    '/graced': [
      c.graced,
      async (ctx) => {
        const n = site.count('graced')
        await site.gate
        return ctx.text(`graced ${n}`)
      },
    ],
    '/cold': [
      c.pages,
      async (ctx) => {
        const n = site.count('cold')
        await site.gate
        return ctx.text(`cold ${n}`)
      },
    ],
    '/tagged': [c.pages, (ctx) => ctx.text(`tagged ${site.count('tagged')} v${site.version}`)],
    '/big': [c.pages, (ctx) => ctx.text('x'.repeat(4096))],
  }
  if (form === 'middleware') {
    for (const [path, [rc]] of Object.entries(handlers)) app.use(path, honoCache(rc))
  }
  // With the middleware, registered after the cache (inside it): adds its cookie once the handler
  // has answered, and the cache sees it. With cachePage, it is outside the cache.
  app.use('/late-cookie', async (ctx, next) => {
    await next()
    ctx.header('Set-Cookie', 'late=1; Path=/')
  })
  for (const [path, [rc, handler]] of Object.entries(handlers)) {
    app.get(path, form === 'middleware' ? handler : honoPage(rc, handler))
  }
  return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
}
