import type { Context } from 'hono'
import {
  type Channel,
  EVENT_STREAM_HEADERS,
  type EventStream,
  type EventStreamOptions,
  openEventStream,
  resolveEventStreamOptions,
} from '../../pubsub/index.js'

/**
 * A Hono handler that serves `channel` as Server-Sent Events (`app.get('/events', channelEvents(ch))`).
 * Durable channels send stream ids and honour `Last-Event-ID`; the subscription ends when the
 * client disconnects (the body stream is cancelled or the request aborted).
 */
export function channelEvents<T>(channel: Channel<T>, options?: EventStreamOptions<T>) {
  const resolved = resolveEventStreamOptions(options)
  return function cachekitChannelEvents(c: Context): Response {
    const encoder = new TextEncoder()
    let stream: EventStream | undefined
    // Byte-counted with no high-water mark: the negative desired size is what the client has not read.
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          stream = openEventStream(channel, c.req.header('last-event-id'), resolved, {
            write: (text) => {
              try {
                controller.enqueue(encoder.encode(text))
              } catch {}
            },
            buffered: () => Math.max(0, -(controller.desiredSize ?? 0)),
            end: () => {
              try {
                controller.close()
              } catch {}
            },
          })
          c.req.raw.signal.addEventListener('abort', () => void stream?.close(), { once: true })
        },
        cancel() {
          void stream?.close()
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    )
    return new Response(body, { status: 200, headers: EVENT_STREAM_HEADERS })
  }
}
