import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/cache/create.js'
import { responseCache } from '../../../src/http/cache/index.js'
import { cachePage, cacheResponses } from '../../../src/http/hono/index.js'
import { memoryStore } from '../../../src/stores/memory/index.js'

// The point of cachePage: Hono calls a route's only handler directly, so a fresh hit in memory
// comes back from app.fetch as a Response, not a promise (@hono/node-server then writes it at once).
describe('Hono cachePage', () => {
  const pages = () => responseCache({ cache: createCache({ store: memoryStore() }), ttl: '1m' })

  it('answers a fresh hit synchronously, and a miss through the same engine path', async () => {
    const app = new Hono()
    let runs = 0
    app.get(
      '/p',
      cachePage(pages(), (c) => c.text(`page ${++runs}`)),
    )
    const miss = app.fetch(new Request('http://h/p'))
    expect(miss).toBeInstanceOf(Promise)
    expect((await miss).headers.get('x-cache')).toBe('MISS')
    const hit = app.fetch(new Request('http://h/p'))
    expect(hit).toBeInstanceOf(Response)
    const res = hit as Response
    expect(res.headers.get('x-cache')).toBe('HIT')
    expect(await res.text()).toBe('page 1')
    expect(runs).toBe(1)
  })

  it('the middleware form answers the same page, through a promise', async () => {
    const app = new Hono()
    app.use('/p', cacheResponses(pages()))
    app.get('/p', (c) => c.text('page'))
    await app.fetch(new Request('http://h/p'))
    const hit = app.fetch(new Request('http://h/p'))
    expect(hit).toBeInstanceOf(Promise)
    expect((await hit).headers.get('x-cache')).toBe('HIT')
  })

  it('passes a handler error to Hono’s error handler', async () => {
    const app = new Hono()
    app.onError((error, c) => c.text(`caught ${error.message}`, 500))
    app.get(
      '/p',
      cachePage(pages(), () => {
        throw new Error('boom')
      }),
    )
    const res = await app.fetch(new Request('http://h/p'))
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('caught boom')
  })
})
