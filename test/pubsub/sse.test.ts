import { createServer, type Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channelEvents as expressEvents } from '../../src/http/express/index.js'
import { channelEvents as fastifyEvents } from '../../src/http/fastify/index.js'
import { channelEvents as honoEvents } from '../../src/http/hono/index.js'
import { type Channel, channel } from '../../src/pubsub/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { listen } from '../support/listen.js'
import { waitFor } from '../support/processes.js'
import { type RedisServer, redisAvailable, startRedis } from '../support/redis.js'

interface Event {
  id: string | undefined
  data: string
}

/** A real SSE client over fetch: reads the body and splits it into events and comments. */
function connect(url: string, lastEventId?: string) {
  const controller = new AbortController()
  const events: Event[] = []
  const comments: string[] = []
  let contentType = ''
  const done = (async () => {
    const res = await fetch(url, {
      signal: controller.signal,
      headers: lastEventId ? { 'last-event-id': lastEventId } : {},
    })
    contentType = res.headers.get('content-type') ?? ''
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      text += decoder.decode(value, { stream: true })
      let end = text.indexOf('\n\n')
      while (end >= 0) {
        const block = text.slice(0, end)
        text = text.slice(end + 2)
        let id: string | undefined
        const data: string[] = []
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4)
          else if (line.startsWith('data: ')) data.push(line.slice(6))
          else if (line.startsWith(':')) comments.push(line)
        }
        if (data.length) events.push({ id, data: data.join('\n') })
        end = text.indexOf('\n\n')
      }
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error
  })
  return { events, comments, contentType: () => contentType, close: () => controller.abort(), done }
}

type Serve = (ch: Channel<{ n: number; at: Date }>) => Promise<{ url: string; close(): Promise<void> }>

const frameworks: [string, Serve][] = [
  [
    'express',
    async (ch) => {
      const app = express()
      app.get('/events', expressEvents(ch, { heartbeat: 50 }))
      const running = await listen(createServer(app))
      return { ...running, url: `${running.url}/events` }
    },
  ],
  [
    'fastify',
    async (ch) => {
      const app = Fastify()
      app.get('/events', fastifyEvents(ch, { heartbeat: 50 }))
      const address = await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        url: `${address}/events`,
        close: async () => {
          app.server.closeAllConnections()
          await app.close()
        },
      }
    },
  ],
  [
    'hono',
    async (ch) => {
      const app = new Hono()
      app.get('/events', honoEvents(ch, { heartbeat: 50 }))
      const running = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
      return { ...running, url: `${running.url}/events` }
    },
  ],
]

describe.skipIf(!redisAvailable())('Server-Sent Events over a durable Redis channel', () => {
  let redis: RedisServer
  const stores: RedisStore[] = []
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const s of stores) await s.close()
    await redis?.stop()
  })

  for (const [name, start] of frameworks) {
    it(`${name}: ids are stream ids, Last-Event-ID resumes with the gap, disconnect unsubscribes`, async () => {
      const serverStore = redisStore({ url: redis.url, timeout: 1000 })
      const publisherStore = redisStore({ url: redis.url, timeout: 1000 })
      stores.push(serverStore, publisherStore)
      const durable = { maxLen: 1000 }
      const server = await start(channel(`sse-${name}`, { store: serverStore, durable }))
      const pub = channel<{ n: number; at: Date }>(`sse-${name}`, { store: publisherStore, durable })
      try {
        const first = connect(server.url)
        await waitFor(() => serverStore.stats().subscriptions.live === 1, 5000)
        expect(first.contentType()).toMatch(/^text\/event-stream/)
        const ids: string[] = []
        for (let n = 0; n < 3; n++) ids.push((await pub.publish({ n, at: new Date(n) })) as string)
        await waitFor(() => first.events.length === 3, 5000)
        expect(first.events.map((e) => e.id)).toEqual(ids)
        expect(JSON.parse(first.events[1]?.data ?? '')).toEqual({ n: 1, at: new Date(1).toISOString() })
        await waitFor(() => first.comments.includes(': ping'), 5000)

        first.close()
        await first.done
        await waitFor(() => serverStore.stats().subscriptions.live === 0, 5000)
        // Published while no client was connected: the gap.
        for (let n = 3; n < 6; n++) ids.push((await pub.publish({ n, at: new Date(n) })) as string)

        const resumed = connect(server.url, ids[1])
        await waitFor(() => resumed.events.length >= 4, 5000)
        await waitFor(() => serverStore.stats().subscriptions.live === 1, 5000)
        ids.push((await pub.publish({ n: 6, at: new Date(6) })) as string)
        await waitFor(() => resumed.events.length === 5, 5000)
        expect(resumed.events.map((e) => e.id)).toEqual(ids.slice(2))
        expect(resumed.events.map((e) => JSON.parse(e.data).n)).toEqual([2, 3, 4, 5, 6])

        // A garbage Last-Event-ID starts from now instead of failing.
        const fresh = connect(server.url, 'not-an-id\r\n')
        await waitFor(() => serverStore.stats().subscriptions.live === 2, 5000)
        ids.push((await pub.publish({ n: 7, at: new Date(7) })) as string)
        await waitFor(() => fresh.events.length === 1, 5000)
        expect(fresh.events[0]?.id).toBe(ids[7])
        resumed.close()
        fresh.close()
        await Promise.all([resumed.done, fresh.done])
        await waitFor(() => serverStore.stats().subscriptions.live === 0, 5000)
      } finally {
        await server.close()
      }
    }, 30_000)
  }
})
