import type { Invalidation, InvalidationBus } from '../../tiers/index.js'
import type { Store } from '../types.js'
import type { SubscriptionStatus, Unsubscribe } from './driver.js'

/** What the bus needs from the store: a guarded PUBLISH and a subscription that outlives outages. */
export interface BusTransport {
  publish(channel: string, payload: string): Promise<void>
  subscribe(
    channel: string,
    listener: (message: Buffer) => void,
    status: SubscriptionStatus,
  ): Promise<Unsubscribe>
  /**
   * See {@link InvalidationBus.inOrderWith}: true for the store itself on a standalone server, one
   * connection that runs a PUBLISH after the write sent before it. Not on Sentinel (a client may
   * pool its master connections) nor Cluster (the key's node is not the channel's).
   */
  inOrderWith?(store: Store): boolean
}

/** The channel tiered caches use unless told otherwise. */
export const DEFAULT_CHANNEL = 'cachekit:invalidate'

/**
 * Invalidations over Redis pub/sub: one JSON message per write, keys only. Redis delivers at most
 * once and drops messages while a subscriber is disconnected, so the subscription's `down`/`up`
 * reach the tiered store, which stops trusting its L1 until it has started it afresh.
 */
export function redisInvalidationBus(transport: BusTransport, channel = DEFAULT_CHANNEL): InvalidationBus {
  return {
    publish: (invalidation) => transport.publish(channel, JSON.stringify(invalidation)),
    ...(transport.inOrderWith ? { inOrderWith: transport.inOrderWith } : {}),
    subscribe: (listener) =>
      transport.subscribe(
        channel,
        (message) => {
          const invalidation = parse(message)
          if (invalidation) listener.message(invalidation)
        },
        { up: () => listener.up(), down: () => listener.down() },
      ),
  }
}

/** A message from another program on the channel is ignored rather than trusted. */
function parse(message: Buffer): Invalidation | undefined {
  try {
    const value = JSON.parse(message.toString('utf8')) as Partial<Invalidation>
    if (typeof value !== 'object' || value === null || typeof value.origin !== 'string') return undefined
    const strings = (list: unknown) =>
      list === undefined || (Array.isArray(list) && list.every((s) => typeof s === 'string'))
    return strings(value.keys) && strings(value.patterns) && strings(value.tags)
      ? (value as Invalidation)
      : undefined
  } catch {
    return undefined
  }
}
