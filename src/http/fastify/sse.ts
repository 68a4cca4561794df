import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  type Channel,
  EVENT_STREAM_HEADERS,
  type EventStreamOptions,
  openEventStream,
  resolveEventStreamOptions,
} from '../../pubsub/index.js'

/**
 * A Fastify route handler that serves `channel` as Server-Sent Events
 * (`app.get('/events', channelEvents(ch))`). It takes over the raw response (`reply.hijack()`);
 * durable channels send stream ids and honour `Last-Event-ID`; the subscription ends when the
 * client disconnects.
 */
export function channelEvents<T>(channel: Channel<T>, options?: EventStreamOptions<T>) {
  const resolved = resolveEventStreamOptions(options)
  return function cachekitChannelEvents(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, EVENT_STREAM_HEADERS)
    res.flushHeaders()
    const header = request.headers['last-event-id']
    const stream = openEventStream(channel, Array.isArray(header) ? header[0] : header, resolved, {
      write: (text) => void res.write(text),
      buffered: () => res.writableLength,
      end: () => void res.end(),
    })
    res.on('close', () => void stream.close())
  }
}
