import type { ServerResponse } from 'node:http'
import {
  type Channel,
  EVENT_STREAM_HEADERS,
  type EventStream,
  type EventStreamOptions,
  openEventStream,
  resolveEventStreamOptions,
} from '../pubsub/index.js'

/**
 * Server-Sent Events of a channel over a Node response (Express, Fastify's raw reply): what the
 * doors' `channelEvents` handlers share. The subscription ends when the response closes.
 */
export function nodeEventStreams<T>(
  channel: Channel<T>,
  options: EventStreamOptions<T> | undefined,
): (res: ServerResponse, lastEventId: string | undefined) => void {
  const resolved = resolveEventStreamOptions(options)
  return (res, lastEventId) => {
    res.writeHead(200, EVENT_STREAM_HEADERS)
    res.flushHeaders()
    const stream = openEventStream(channel, lastEventId, resolved, {
      write: (text) => void res.write(text),
      buffered: () => res.writableLength,
      end: () => void res.end(),
    })
    res.on('close', () => void stream.close())
  }
}

/**
 * Server-Sent Events of a channel as a web `Response` (Hono, any fetch handler). The subscription
 * ends when the body stream is cancelled or `signal` (the request's) aborts.
 */
export function webEventStreams<T>(
  channel: Channel<T>,
  options: EventStreamOptions<T> | undefined,
): (lastEventId: string | undefined, signal: AbortSignal) => Response {
  const resolved = resolveEventStreamOptions(options)
  return (lastEventId, signal) => {
    const encoder = new TextEncoder()
    let stream: EventStream | undefined
    // Byte-counted with no high-water mark: the negative desired size is what the client has not read.
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          stream = openEventStream(channel, lastEventId, resolved, {
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
          signal.addEventListener('abort', () => void stream?.close(), { once: true })
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
