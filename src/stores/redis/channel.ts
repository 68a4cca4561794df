import { RETHROW } from '../../internal/index.js'
import type { BufferListener, SubscriptionStatus, Unsubscribe } from './driver.js'
import type { Guard } from './guard.js'

/** A named pub/sub channel (see {@link RedisStore.channel}). */
export interface PubSubChannel {
  publish(message: string): Promise<void>
  /**
   * Resolves to a function that unsubscribes. `status` (optional) hears when the subscription goes
   * live (`up`) and when messages may be missed (`down`), e.g. to catch up from a stream after a
   * reconnect.
   */
  subscribe(listener: (message: string) => void, status?: SubscriptionStatus): Promise<() => Promise<void>>
}

/**
 * The channel `name` of a store: `publish` goes through the store's guard (deadline and breaker);
 * `subscribe` goes through the store's one pub/sub connection (`subscribe`).
 */
export function pubSubChannel(
  guard: Guard,
  name: string,
  subscribe: (channel: string, listener: BufferListener, status: SubscriptionStatus) => Promise<Unsubscribe>,
): PubSubChannel {
  return {
    publish: (message) =>
      guard.call('channel', (d) => d.send(['PUBLISH', name, message]).then(() => undefined), RETHROW),
    subscribe: (listener, status) =>
      subscribe(
        name,
        (message) => listener(message.toString('utf8')),
        status ?? { up: () => {}, down: () => {} },
      ),
  }
}
