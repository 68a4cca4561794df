import type { Request, Response } from 'express'
import type { Channel, EventStreamOptions } from '../../pubsub/index.js'
import { nodeEventStreams } from '../sse.js'

/**
 * An Express handler that serves `channel` as Server-Sent Events (`app.get('/events', channelEvents(ch))`).
 * Durable channels send stream ids and honour `Last-Event-ID`; the subscription ends when the
 * client disconnects.
 */
export function channelEvents<T>(channel: Channel<T>, options?: EventStreamOptions<T>) {
  const serve = nodeEventStreams(channel, options)
  return function cachekitChannelEvents(req: Request, res: Response): void {
    serve(res, req.get('last-event-id'))
  }
}
