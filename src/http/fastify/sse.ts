import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Channel, EventStreamOptions } from '../../pubsub/index.js'
import { nodeEventStreams } from '../sse.js'

/**
 * A Fastify route handler that serves `channel` as Server-Sent Events
 * (`app.get('/events', channelEvents(ch))`). It takes over the raw response (`reply.hijack()`);
 * durable channels send stream ids and honour `Last-Event-ID`; the subscription ends when the
 * client disconnects.
 */
export function channelEvents<T>(channel: Channel<T>, options?: EventStreamOptions<T>) {
  const serve = nodeEventStreams(channel, options)
  return function cachekitChannelEvents(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack()
    const header = request.headers['last-event-id']
    serve(reply.raw, Array.isArray(header) ? header[0] : header)
  }
}
