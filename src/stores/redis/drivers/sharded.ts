import type { BufferListener, PubSubConnection } from '../driver.js'
import { keySlot } from '../slot.js'
import { type Emitter, statusFeed } from './shared.js'

/** A client's pub/sub as node-redis (5.x, 6.x) has it, classic and sharded, in buffer mode. */
export interface ClusterPubSubLike extends Emitter {
  readonly isReady: boolean
  subscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
  unsubscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
  sSubscribe?(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
  sUnsubscribe?(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
}

/** The node client holding a slot's sharded subscriptions, as node-redis's slot map has it. */
interface ShardClient {
  readonly isReady: boolean
  getPubSubListeners(type: 'SHARDED'): Map<string, { buffers: Set<BufferListener> }>
}

/** node-redis internals (5.x, 6.x): the slot map, each slot's master and its sharded pub/sub client. */
export interface SlotsLike {
  readonly slots?: readonly ({ master?: { pubSub?: { client?: ShardClient } } } | undefined)[]
  rediscover?(startWith?: unknown): Promise<void>
}

/** How often sharded subscriptions are checked against the slot map. */
const CHECK_MS = 500
/** The least time between two topology re-reads asked for by the check. */
const REDISCOVER_MS = 1000

/**
 * A node-redis Cluster's own pub/sub: classic channels on its one pub/sub node, sharded channels
 * (SSUBSCRIBE) on a connection to the master owning each channel's slot. node-redis re-subscribes
 * after a reconnect and follows a slot migration (the server's SUNSUBSCRIBE); after a failover it
 * moves the dead master's listeners (6.x; 5.x destroyed them) only once it re-reads the topology,
 * and says nothing either way. So, while sharded subscriptions exist, each is checked twice a
 * second against node-redis's slot map: one not held by a ready connection to its slot's current
 * master is reported lost (`onLost`) and a topology re-read is asked for; the store marks it down
 * and subscribes it again (idempotent when node-redis already moved it), then up, so `stats()`
 * tells the truth and a durable channel catches up at once. A sharded subscribe resolves only
 * once that connection holds it and is ready. Without those internals (another node-redis),
 * sharded subscriptions still work but a failover is not reported.
 */
export function clusterPubSub(
  client: ClusterPubSubLike,
  slots: () => SlotsLike | undefined,
): PubSubConnection {
  const onStatus = statusFeed(client, 'end')
  const classic = new Map<BufferListener, string>()
  const sharded = new Map<BufferListener, string>()
  const lost: ((channel: string, listener: BufferListener) => void)[] = []
  let timer: NodeJS.Timeout | undefined
  let lastRediscover = 0

  /** True when the slot's master connection holds `listener` and is up; undefined without internals. */
  const held = (channel: string, listener: BufferListener): boolean | undefined => {
    const map = slots()?.slots
    if (map === undefined) return undefined
    const owner = map[keySlot(channel)]?.master?.pubSub?.client
    if (owner === undefined || typeof owner.getPubSubListeners !== 'function') return false
    return owner.isReady && owner.getPubSubListeners('SHARDED').get(channel)?.buffers.has(listener) === true
  }
  const rediscover = () => {
    if (performance.now() - lastRediscover < REDISCOVER_MS) return
    lastRediscover = performance.now()
    slots()
      ?.rediscover?.()
      .catch(() => {})
  }
  const check = () => {
    for (const [listener, channel] of [...sharded]) {
      if (held(channel, listener) !== false) continue
      sharded.delete(listener)
      rediscover()
      for (const report of lost) report(channel, listener)
    }
    if (sharded.size === 0) stop()
  }
  const start = () => {
    if (timer !== undefined) return
    timer = setInterval(check, CHECK_MS)
    timer.unref()
  }
  const stop = () => {
    clearInterval(timer)
    timer = undefined
  }

  return {
    get ready() {
      return client.isReady
    },
    onStatus,
    onLost: (listener) => {
      lost.push(listener)
    },
    subscribe: async (channel, listener, isSharded) => {
      if (!isSharded) {
        await client.subscribe(channel, listener, true)
        classic.set(listener, channel)
        return
      }
      await client.sSubscribe!(channel, listener, true)
      // The listener may sit on a connection that is down (node-redis adds it without a command):
      // live only once the slot's current master holds it.
      if (held(channel, listener) === false) {
        rediscover()
        throw new Error(`The sharded subscription to ${channel} is not on a ready connection yet`)
      }
      sharded.set(listener, channel)
      start()
    },
    unsubscribe: async (channel, listener, isSharded) => {
      if (!isSharded) {
        classic.delete(listener)
        await client.unsubscribe(channel, listener, true)
        return
      }
      sharded.delete(listener)
      if (sharded.size === 0) stop()
      await client.sUnsubscribe!(channel, listener, true)
    },
    close: async () => {
      stop()
      const drops = [
        ...[...classic].map(([listener, channel]) => client.unsubscribe(channel, listener, true)),
        ...[...sharded].map(([listener, channel]) => client.sUnsubscribe!(channel, listener, true)),
      ].map((drop) => drop.catch(() => {}))
      classic.clear()
      sharded.clear()
      await Promise.all(drops)
    },
  }
}
