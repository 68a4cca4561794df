import diagnostics from 'node:diagnostics_channel'
import { HTTP_CACHE_CHANNEL, type HttpCacheEvent } from '../../observe/index.js'

export { HTTP_CACHE_CHANNEL, type HttpCacheEvent }

const channel = diagnostics.channel(HTTP_CACHE_CHANNEL)

/** Publishes one event; costs one boolean check when nobody listens. */
export function publish(
  type: HttpCacheEvent['type'],
  method: string,
  route: string | undefined,
  reason?: string,
): void {
  if (!channel.hasSubscribers) return
  const event: { -readonly [K in keyof HttpCacheEvent]: HttpCacheEvent[K] } = { type, method }
  if (reason !== undefined) event.reason = reason
  if (route !== undefined) event.route = route
  channel.publish(event)
}
