import { afterAll, describe, expect, it } from 'vitest'
import { type RawData, WebSocket } from 'ws'
import { startWebSocketBridge, type WebSocketBridge } from '../../examples/channels-websocket.js'
import { channel } from '../../src/pubsub/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { waitFor } from '../support/processes.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'

interface Frame {
  id?: string
  data?: { n: number; from: string }
  error?: string
}

/** A ws client that records frames and how it was closed. */
async function client(url: string) {
  const socket = new WebSocket(url)
  const frames: Frame[] = []
  let closedWith: number | undefined
  socket.on('message', (raw: RawData) => frames.push(JSON.parse(raw.toString()) as Frame))
  socket.on('close', (code) => {
    closedWith = code
  })
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  return {
    socket,
    frames,
    data: () => frames.filter((f) => f.data).map((f) => f.data!),
    closedWith: () => closedWith,
  }
}

const accept = (value: unknown) => {
  const v = value as { n?: unknown; from?: unknown }
  if (typeof v?.n !== 'number' || typeof v.from !== 'string') throw new Error('bad')
  return { n: v.n, from: v.from }
}

describe.skipIf(!redisAvailable())('the WebSocket bridge example on Redis', () => {
  const server = useRedisServer()
  const stores: RedisStore[] = []
  const bridges: WebSocketBridge[] = []
  const sockets: WebSocket[] = []
  const store = () => {
    const s = redisStore({ url: server.url, timeout: 1000 })
    stores.push(s)
    return s
  }
  afterAll(async () => {
    for (const s of sockets) s.terminate()
    for (const b of bridges) await b.close()
    for (const s of stores) await s.close()
  })

  it('two clients receive every message in publish order; a client message is published', async () => {
    const s = store()
    const notes = channel<{ n: number; from: string }>(`ws-order-${process.pid}`, {
      store: s,
      durable: { maxLen: 1000 },
    })
    const bridge = await startWebSocketBridge({ channel: notes, accept })
    bridges.push(bridge)
    const a = await client(bridge.url)
    const b = await client(bridge.url)
    sockets.push(a.socket, b.socket)
    await waitFor(() => s.stats().subscriptions.live >= 2, 5000)
    // One publisher through a client, one from the server side, interleaved.
    for (let n = 0; n < 30; n++) {
      a.socket.send(JSON.stringify({ n, from: 'a' }))
      await notes.publish({ n, from: 'server' })
    }
    a.socket.send('not json')
    await waitFor(() => a.data().length === 60 && b.data().length === 60, 10_000)
    for (const c of [a, b]) {
      for (const from of ['a', 'server']) {
        expect(
          c
            .data()
            .filter((d) => d.from === from)
            .map((d) => d.n),
        ).toEqual(Array.from({ length: 30 }, (_, n) => n))
      }
      // Both saw one order, each frame with its stream id.
      expect(c.frames.filter((f) => f.data).every((f) => typeof f.id === 'string')).toBe(true)
    }
    expect(a.frames.filter((f) => f.data).map((f) => f.id)).toEqual(
      b.frames.filter((f) => f.data).map((f) => f.id),
    )
    await waitFor(() => a.frames.some((f) => f.error === 'invalid message'), 5000)
  })

  it('a client that reconnects with lastEventId gets the gap, then live messages', async () => {
    const s = store()
    const notes = channel<{ n: number; from: string }>(`ws-resume-${process.pid}`, {
      store: s,
      durable: { maxLen: 1000 },
    })
    const bridge = await startWebSocketBridge({ channel: notes, accept })
    bridges.push(bridge)
    const b = await client(bridge.url)
    sockets.push(b.socket)
    await waitFor(() => s.stats().subscriptions.live >= 1, 5000)
    for (let n = 0; n < 3; n++) await notes.publish({ n, from: 'server' })
    await waitFor(() => b.data().length === 3, 5000)
    const last = b.frames.at(-1)!.id!
    b.socket.close()
    await waitFor(() => bridge.clients() === 0, 5000)
    for (let n = 3; n < 8; n++) await notes.publish({ n, from: 'server' })
    const back = await client(`${bridge.url}?lastEventId=${encodeURIComponent(last)}`)
    sockets.push(back.socket)
    await waitFor(() => back.data().length === 5, 5000)
    await waitFor(() => s.stats().subscriptions.live >= 1, 5000)
    await notes.publish({ n: 8, from: 'server' })
    await waitFor(() => back.data().length === 6, 5000)
    expect(back.data().map((d) => d.n)).toEqual([3, 4, 5, 6, 7, 8])
    // An unreadable lastEventId starts from now rather than failing.
    const fresh = await client(`${bridge.url}?lastEventId=nonsense`)
    sockets.push(fresh.socket)
    await waitFor(() => s.stats().subscriptions.live >= 2, 5000)
    await notes.publish({ n: 9, from: 'server' })
    await waitFor(() => fresh.data().length === 1, 5000)
    expect(fresh.data()[0]!.n).toBe(9)
  })

  it('a client that stops reading is closed once its backlog passes maxBufferedBytes', async () => {
    const s = store()
    const big = channel<{ n: number; from: string }>(`ws-slow-${process.pid}`, { store: s })
    const bridge = await startWebSocketBridge({ channel: big, accept, maxBufferedBytes: 64 * 1024 })
    bridges.push(bridge)
    const slow = await client(bridge.url)
    const fast = await client(bridge.url)
    sockets.push(slow.socket, fast.socket)
    await waitFor(() => s.stats().subscriptions.live >= 2, 5000)
    // The slow client's TCP socket stops reading: the server's send buffer fills up.
    ;(slow.socket as unknown as { _socket: { pause(): void } })._socket.pause()
    const pad = 'x'.repeat(32 * 1024)
    for (let n = 0; n < 400 && bridge.clients() === 2; n++) await big.publish({ n, from: pad })
    await waitFor(() => bridge.clients() === 1, 10_000)
    // The other client is unaffected and still connected.
    await waitFor(() => fast.data().length > 0, 5000)
    expect(fast.socket.readyState).toBe(WebSocket.OPEN)
    ;(slow.socket as unknown as { _socket: { resume(): void } })._socket.resume()
    await waitFor(() => slow.closedWith() !== undefined, 10_000)
    expect(slow.closedWith()).toBe(1013)
  })
})
