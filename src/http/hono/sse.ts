import type { Context } from 'hono'
import type { Channel, EventStreamOptions } from '../../pubsub/index.js'
import { webEventStreams } from '../sse.js'

/**
 * A Hono handler that serves `channel` as Server-Sent Events (`app.get('/events', channelEvents(ch))`).
 * Durable channels send stream ids and honour `Last-Event-ID`; the subscription ends when the
 * client disconnects (the body stream is cancelled or the request aborted).
 */
export function channelEvents<T>(channel: Channel<T>, options?: EventStreamOptions<T>) {
  const respond = webEventStreams(channel, options)
  return function cachekitChannelEvents(c: Context): Response {
    return respond(c.req.header('last-event-id'), c.req.raw.signal)
  }
}
