import diagnostics from 'node:diagnostics_channel'

/** The `node:diagnostics_channel` channel on which the response cache publishes {@link HttpCacheEvent}s. */
export const HTTP_CACHE_CHANNEL = 'cachekit:http-cache'

/** What one request did with the response cache; counted by the metrics doors. */
export interface HttpCacheEvent {
  /**
   * `hit`: served from the cache; `stale`: served stale inside grace while another request refreshes;
   * `miss`: not in the cache (the handler ran, or the caller was collapsed onto another's run);
   * `store`: a response was stored; `bypass`: the cache was not used or a response was refused.
   */
  readonly type: 'hit' | 'miss' | 'stale' | 'store' | 'bypass'
  /** Why, for `bypass` (a stable token such as `set-cookie`, `private`, `authorization`, `status`). */
  readonly reason?: string
  /** The route template or the configured name; never the raw path. */
  readonly route?: string
  /** The request method. */
  readonly method: string
}

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
