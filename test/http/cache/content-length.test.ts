import { createServer } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/cache/create.js'
import { responseCache } from '../../../src/http/cache/index.js'
import { cacheResponses as expressCache } from '../../../src/http/express/index.js'
import { cacheResponses as fastifyCache } from '../../../src/http/fastify/index.js'
import { memoryStore } from '../../../src/stores/memory/index.js'
import { get } from '../../support/http-client.js'
import { type Listening, listen } from '../../support/listen.js'

// A hit leaves Content-Length to the server that sends the body (it is in the reply for HEAD
// only): one set before the cache looked must not go out with a hit.
const BODY = '<p>héllo, wörld</p>'
const pages = () => responseCache({ cache: createCache({ store: memoryStore() }), ttl: '1m' })

let running: Listening | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function expectRightLengths(url: string): Promise<void> {
  const miss = await get(`${url}/page`)
  const hit = await get(`${url}/page`)
  expect(hit.header('x-cache')).toBe('HIT')
  for (const answer of [miss, hit]) {
    expect(answer.body).toBe(BODY)
    expect(Number(answer.header('content-length'))).toBe(Buffer.byteLength(BODY))
  }
  const head = await get(`${url}/page`, {}, 'HEAD')
  expect(head.header('x-cache')).toBe('HIT')
  expect(Number(head.header('content-length'))).toBe(Buffer.byteLength(BODY))
}

describe('Content-Length on a hit', () => {
  it('express: a stale one set by an earlier middleware is replaced', async () => {
    const app = express()
    app.use((_req, res, next) => {
      res.setHeader('Content-Length', '3')
      next()
    })
    app.use('/page', expressCache(pages()))
    app.get('/page', (_req, res) => {
      res.removeHeader('Content-Length')
      res.type('html').send(BODY)
    })
    running = await listen(createServer(app))
    await expectRightLengths(running.url)
  })

  it('fastify: a stale one set by an earlier hook is replaced', async () => {
    const app = Fastify()
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('Content-Length', '3')
      done()
    })
    await app.register(async (scope) => {
      await scope.register(fastifyCache(pages()))
      scope.get('/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send(BODY))
    })
    await app.ready()
    running = await listen(app.server)
    await expectRightLengths(running.url)
  })
})
