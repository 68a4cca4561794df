import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { adminPage as expressAdmin } from '../../src/http/express/index.js'
import { adminPage as fastifyAdmin } from '../../src/http/fastify/index.js'
import { createCache, memoryStore } from '../../src/index.js'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})

function options() {
  const cache = createCache({ store: memoryStore(), prefix: 'door' })
  closers.push(() => cache.close())
  return {
    cache,
    options: {
      caches: { main: cache },
      authorize: (request: Request) => request.headers.get('authorization') === 'Bearer ok',
      basePath: '/ops/cache',
    },
  }
}

/** GET a page, then POST a delete with its token and cookie, over real HTTP. */
async function deleteThrough(base: string): Promise<number[]> {
  const auth = { authorization: 'Bearer ok' }
  const refused = await fetch(`${base}/ops/cache`)
  const page = await fetch(`${base}/ops/cache/keys?cache=main&pattern=*`, { headers: auth })
  const cookie = (page.headers.get('set-cookie') as string).split(';')[0] as string
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string
  const post = (extra: Record<string, string>) =>
    fetch(`${base}/ops/cache/delete`, {
      method: 'POST',
      headers: { ...auth, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ cache: 'main', key: 'k', ...extra }).toString(),
    })
  const without = await post({})
  const withToken = await post({ _csrf: token })
  return [refused.status, page.status, without.status, withToken.status]
}

describe('adminPage doors', () => {
  it('Express: mounted under a path, with or without a body parser before it', async () => {
    for (const parser of [false, true]) {
      const { cache, options: o } = options()
      await cache.set('k', 1)
      const app = express()
      if (parser) app.use(express.urlencoded({ extended: false }))
      const admin = expressAdmin(o)
      app.use('/ops/cache', admin)
      const server = app.listen(0, '127.0.0.1')
      await new Promise((r) => server.once('listening', r))
      closers.push(async () => {
        await admin.close()
        server.closeAllConnections()
        await new Promise((r) => server.close(r))
      })
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      expect(await deleteThrough(base)).toEqual([401, 200, 403, 200])
      expect(await cache.has('k')).toBe(false)
    }
  })

  it('Fastify: a plugin that reads its own form bodies', async () => {
    const { cache, options: o } = options()
    await cache.set('k', 1)
    const app = Fastify()
    const admin = fastifyAdmin(o)
    await app.register(admin)
    app.get('/other', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(async () => {
      await admin.close()
      await app.close()
    })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    expect(await deleteThrough(base)).toEqual([401, 200, 403, 200])
    expect(await cache.has('k')).toBe(false)
    const head = await fetch(`${base}/ops/cache`, { method: 'HEAD', headers: { authorization: 'Bearer ok' } })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect((await fetch(`${base}/other`)).status).toBe(200)
  })
})
