import { UnsupportedOperationError } from '../../errors.js'
import { RETHROW } from '../../internal/index.js'
import type { BufferListener, RedisDriver, SubscriptionStatus, Unsubscribe } from './driver.js'
import type { Guard } from './guard.js'

/** A named pub/sub channel (see {@link RedisStore.channel}). */
export interface PubSubChannel {
  /**
   * True when the channel uses sharded pub/sub (SPUBLISH, SSUBSCRIBE: Redis Cluster, see the
   * store's `shardedPubSub` option); a script that publishes on it must use SPUBLISH too.
   */
  readonly sharded: boolean
  publish(message: string): Promise<void>
  /**
   * Resolves to a function that unsubscribes. `status` (optional) hears when the subscription goes
   * live (`up`) and when messages may be missed (`down`), e.g. to catch up from a stream after a
   * reconnect.
   */
  subscribe(listener: (message: string) => void, status?: SubscriptionStatus): Promise<() => Promise<void>>
}

/** Options of {@link RedisStore.channel}. */
export interface PubSubChannelOptions {
  /**
   * `false` keeps classic pub/sub on Cluster, for a channel that something else publishes to
   * with PUBLISH (a script whose keys hash to another slot than the channel). Default: the
   * store's `shardedPubSub` choice.
   */
  readonly sharded?: boolean
}

/**
 * Whether a store's channels are sharded: on Cluster only, where the driver can and the option
 * allows. `shardedPubSub: true` on a client that cannot is refused (a typed error, at creation).
 */
export function shardedPubSub(driver: RedisDriver | undefined, option: boolean | 'auto'): boolean {
  if (driver?.topology !== 'cluster' || option === false) return false
  if (option === true && !driver.sharded) {
    throw new UnsupportedOperationError(
      'redisStore shardedPubSub: true needs a client with sharded pub/sub: node-redis 5+, or an ioredis Cluster created with { shardedSubscribers: true }',
    )
  }
  return driver.sharded
}

/**
 * SPUBLISH for a sharded channel, else PUBLISH. Both are routed by the channel's slot: a classic
 * PUBLISH sent to a random node each time reaches subscribers on other nodes over the cluster bus
 * from different nodes, out of order (an ioredis Cluster, whose sender takes no key, still does).
 */
export function publishVia(driver: RedisDriver, sharded: boolean, channel: string, message: string) {
  return driver.send([sharded ? 'SPUBLISH' : 'PUBLISH', channel, message], channel)
}

/**
 * The channel `name` of a store: `publish` goes through the store's guard (deadline and breaker);
 * `subscribe` goes through the store's one pub/sub connection (`subscribe`).
 */
export function pubSubChannel(
  guard: Guard,
  name: string,
  sharded: boolean,
  subscribe: (
    channel: string,
    listener: BufferListener,
    status: SubscriptionStatus,
    sharded: boolean,
  ) => Promise<Unsubscribe>,
): PubSubChannel {
  return {
    sharded,
    publish: (message) =>
      guard.call('channel', (d) => publishVia(d, sharded, name, message).then(() => undefined), RETHROW),
    subscribe: (listener, status) =>
      subscribe(
        name,
        (message) => listener(message.toString('utf8')),
        status ?? { up: () => {}, down: () => {} },
        sharded,
      ),
  }
}
