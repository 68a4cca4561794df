import type { Request, Response } from 'express'
import {
  type Channel,
  EVENT_STREAM_HEADERS,
  type EventStreamOptions,
  openEventStream,
  resolveEventStreamOptions,
} from '../../pubsub/index.js'

/**
 * An Express handler that serves `channel` as Server-Sent Events (`app.get('/events', channelEvents(ch))`).
 * Durable channels send stream ids and honour `Last-Event-ID`; the subscription ends when the
 * client disconnects.
 */
export function channelEvents<T>(channel: Channel<T>, options?: EventStreamOptions<T>) {
  const resolved = resolveEventStreamOptions(options)
  return function cachekitChannelEvents(req: Request, res: Response): void {
    res.writeHead(200, EVENT_STREAM_HEADERS)
    res.flushHeaders()
    const stream = openEventStream(channel, req.get('last-event-id'), resolved, {
      write: (text) => void res.write(text),
      buffered: () => res.writableLength,
      end: () => void res.end(),
    })
    res.on('close', () => void stream.close())
  }
}
