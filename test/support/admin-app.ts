/**
 * A small app with a login form and the admin page, as a user would wire it: Express (the
 * `cachekit/express` door) or Hono on @hono/node-server (the `cachekit/hono` door). Signing in
 * sets a random session cookie; `authorize` lets in requests that carry a live one.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import type { AdminOptions } from '../../src/admin/index.js'
import { adminPage as expressAdmin } from '../../src/http/express/index.js'
import { adminPage as honoAdmin } from '../../src/http/hono/index.js'
import type { Cache } from '../../src/index.js'

export interface TestApp {
  readonly url: string
  close(): Promise<void>
}

const LOGIN_FORM = `<!doctype html><meta name="viewport" content="width=device-width"><title>Sign in</title>
<form method="post" action="/login"><label>User <input name="user"></label>
<label>Password <input name="password" type="password"></label><button>Sign in</button></form>`

export async function startApp(
  kind: 'express' | 'hono',
  cache: Cache,
  extra: Partial<AdminOptions> = {},
): Promise<TestApp> {
  const sessions = new Set<string>()
  const sidOf = (cookie: string | null | undefined) => /(?:^|;\s*)sid=([\w-]+)/.exec(cookie ?? '')?.[1]
  const login = (user: string, password: string) => {
    if (user !== 'admin' || password !== 'correct horse') return undefined
    const sid = randomBytes(16).toString('base64url')
    sessions.add(sid)
    return `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`
  }
  const options: AdminOptions = {
    caches: { main: cache },
    authorize: (request) => {
      const sid = sidOf(request.headers.get('cookie'))
      return sid !== undefined && sessions.has(sid)
    },
    unauthorized: () => new Response(null, { status: 303, headers: { location: '/login' } }),
    csrfBinding: (request) => sidOf(request.headers.get('cookie')),
    basePath: '/admin',
    sampleInterval: 500,
    ...extra,
  }
  // Requests the "script" makes: reads through getOrSet, so hits and misses move.
  const product = async (id: string) =>
    cache.getOrSet(`product:${id}`, () => ({ id, name: `Product ${id}` }), { ttl: '10m' })

  if (kind === 'express') {
    const app = express()
    const admin = expressAdmin(options)
    app.get('/login', (_req, res) => {
      res.type('html').send(LOGIN_FORM)
    })
    app.post('/login', express.urlencoded({ extended: false }), (req, res) => {
      const cookie = login(String(req.body.user), String(req.body.password))
      if (!cookie) return void res.status(401).type('html').send(LOGIN_FORM)
      res.setHeader('set-cookie', cookie)
      res.redirect(303, '/admin')
    })
    app.get('/product/:id', async (req, res) => {
      res.json(await product(req.params.id))
    })
    app.use('/admin', admin)
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        await admin.close()
        server.closeAllConnections()
        await new Promise<void>((r) => server.close(() => r()))
      },
    }
  }
  const app = new Hono()
  const admin = honoAdmin(options)
  app.get('/login', (c) => c.html(LOGIN_FORM))
  app.post('/login', async (c) => {
    const form = await c.req.parseBody()
    const cookie = login(String(form['user']), String(form['password']))
    if (!cookie) return c.html(LOGIN_FORM, 401)
    c.header('set-cookie', cookie)
    return c.redirect('/admin', 303)
  })
  app.get('/product/:id', async (c) => c.json(await product(c.req.param('id'))))
  app.all('/admin', admin)
  app.all('/admin/*', admin)
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await admin.close()
      ;(server as Server).closeAllConnections?.()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
