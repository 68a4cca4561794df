/**
 * A channel bridged to WebSocket clients (the `ws` package): each client receives the channel's
 * messages as JSON (`{ id, data }`), and a message a client sends is published on the channel, so
 * every client of every process gets it. On a durable channel a client that reconnects with
 * `?lastEventId=<id of the last message it saw>` first gets what it missed (as an SSE client does
 * with `Last-Event-ID`). A client that reads too slowly is closed (code 1013) rather than let the
 * server's memory grow; it reconnects with its `lastEventId`. On Redis with REDIS_URL (on Redis
 * Cluster the channel is sharded), else in memory.
 * Run: REDIS_URL=redis://127.0.0.1:6379/0 npx tsx examples/channels-websocket.ts
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { memoryStore } from 'cachekit'
import { type Channel, channel, parseEventId } from 'cachekit/pubsub'
import { redisOptionsFromEnv, redisStore } from 'cachekit/redis'
import { type RawData, WebSocket, WebSocketServer } from 'ws'

export interface WebSocketBridgeOptions<T> {
  /** The channel served: its messages go to every client, clients' messages are published on it. */
  readonly channel: Channel<T>
  /** Default 0: any free port. */
  readonly port?: number
  readonly host?: string
  /** Checks what a client sent (already JSON-parsed); return the message to publish, or throw. */
  readonly accept: (data: unknown) => T
  /** A client with more than this many bytes unsent is closed. Default 1 MiB. */
  readonly maxBufferedBytes?: number
}

export interface WebSocketBridge {
  /** `ws://host:port/`; add `?lastEventId=...` to resume a durable channel. */
  readonly url: string
  readonly server: Server
  /** Clients connected now. */
  clients(): number
  /** Closes every client and the server, and ends their subscriptions. */
  close(): Promise<void>
}

/** Code 1013 "try again later": the client fell behind; it reconnects with its lastEventId. */
const TOO_SLOW = 1013

/** Starts an HTTP server whose WebSocket clients are bridged to `options.channel`. */
export async function startWebSocketBridge<T>(options: WebSocketBridgeOptions<T>): Promise<WebSocketBridge> {
  const { channel: ch, accept } = options
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024
  const server = createServer((_request, response) => response.writeHead(426).end('WebSocket only\n'))
  const wss = new WebSocketServer({ server })
  const ends = new Set<() => Promise<void>>()

  wss.on('connection', (socket, request) => {
    // Resume after the client's last id, as SSE does with Last-Event-ID; an unreadable id (or a
    // channel that is not durable) starts from now.
    const requested = new URL(request.url ?? '/', 'http://localhost').searchParams.get('lastEventId')
    let since: string | undefined
    if (ch.durable && requested) {
      try {
        since = parseEventId(requested)
      } catch {}
    }
    let closed = false
    let unsubscribe: () => Promise<void> = async () => {}
    const end = async () => {
      if (closed) return
      closed = true
      ends.delete(end)
      if (socket.readyState === WebSocket.OPEN) socket.close()
      await unsubscribe()
    }
    ends.add(end)
    socket.on('close', () => void end())
    socket.on('error', () => void end())

    const subscribed = ch.subscribe(
      (data, { id }) => {
        if (closed || socket.readyState !== WebSocket.OPEN) return
        // Backpressure: ws queues what the network has not taken yet. Past the bound, drop the
        // client instead of buffering without end.
        if (socket.bufferedAmount > maxBuffered) {
          socket.close(TOO_SLOW, 'too slow: reconnect with lastEventId')
          void end()
          return
        }
        socket.send(JSON.stringify({ id, data }))
      },
      since === undefined ? {} : { since },
    )
    subscribed.then(
      (stop) => {
        if (closed) return void stop()
        unsubscribe = stop
      },
      // The store could not subscribe (Redis down): close; the client retries.
      () => {
        socket.close(TOO_SLOW, 'channel unavailable')
        void end()
      },
    )

    socket.on('message', (raw: RawData) => {
      let message: T
      try {
        message = accept(JSON.parse(raw.toString()))
      } catch {
        socket.send(JSON.stringify({ error: 'invalid message' }))
        return
      }
      ch.publish(message).catch(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ error: 'not published' }))
      })
    })
  })

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  const { address, port } = server.address() as AddressInfo
  return {
    url: `ws://${address}:${port}/`,
    server,
    clients: () => ends.size,
    async close() {
      await Promise.all([...ends].map((end) => end()))
      for (const client of wss.clients) client.terminate()
      await new Promise((resolve) => wss.close(resolve))
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

interface Note {
  from: string
  text: string
}

function acceptNote(data: unknown): Note {
  const note = data as Partial<Note> | null
  if (typeof note?.from !== 'string' || typeof note.text !== 'string' || note.text.length > 1000) {
    throw new Error('expected { from, text }')
  }
  return { from: note.from, text: note.text }
}

/** A client that collects what it receives; `next(n)` waits until it has n messages. */
async function connect(url: string) {
  const socket = new WebSocket(url)
  const got: { id?: string; data: Note }[] = []
  socket.on('message', (raw: RawData) => got.push(JSON.parse(raw.toString())))
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  const next = async (n: number) => {
    while (got.length < n) await new Promise((resolve) => setTimeout(resolve, 10))
    return got
  }
  return { socket, got, next }
}

// The demo, when run as a program (a test imports startWebSocketBridge instead).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = redisOptionsFromEnv(process.env)
  const store = options ? redisStore({ ...options, timeout: 500 }) : memoryStore()
  if ('ready' in store) await store.ready()
  console.log('store:', store.name)
  // Durable: the last 1,000 notes, for an hour, are kept for clients that reconnect.
  const notes = channel<Note>(`notes-${process.pid}`, { store, durable: { maxLen: 1000, retention: '1h' } })
  const bridge = await startWebSocketBridge({ channel: notes, accept: acceptNote })

  const ann = await connect(bridge.url)
  const bob = await connect(bridge.url)
  // On Redis the subscriptions go live just after they are made.
  await new Promise((resolve) => setTimeout(resolve, 100))
  ann.socket.send(JSON.stringify({ from: 'ann', text: 'shift 1 starts at 8' }))
  console.log(
    'bob got:',
    (await bob.next(1)).map((m) => m.data),
  )

  // Bob goes away; ann keeps writing; bob comes back with the id of the last note he saw.
  const lastSeen = bob.got.at(-1)?.id ?? ''
  bob.socket.close()
  ann.socket.send(JSON.stringify({ from: 'ann', text: 'shift 2 moved to 17' }))
  ann.socket.send(JSON.stringify({ from: 'ann', text: 'eve covers shift 3' }))
  await ann.next(3)
  const back = await connect(`${bridge.url}?lastEventId=${encodeURIComponent(lastSeen)}`)
  console.log(
    'bob after reconnecting:',
    (await back.next(2)).map((m) => m.data.text),
  )

  ann.socket.close()
  back.socket.close()
  await bridge.close()
  if ('close' in store) await store.close()
}
