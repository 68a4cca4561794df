import type {
  BufferListener,
  DriverEvents,
  NodeSender,
  PubSubConnection,
  RedisArg,
  RedisDriver,
} from '../driver.js'
import { lazyPubSub, statusFeed } from './shared.js'

/**
 * A thin adapter for an ioredis client or cluster the caller already runs. `callBuffer` returns
 * blob strings as Buffers. The caller owns the client: `close()` leaves it open. Create it with
 * `enableOfflineQueue: false` so commands fail fast instead of queueing while Redis is down.
 */
interface IORedisLike {
  status: string
  callBuffer(command: string, args: RedisArg[]): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  duplicate(): IORedisSubscriber
}

interface IORedisSubscriber {
  status: string
  on(event: string, listener: (...args: unknown[]) => void): unknown
  connect(): Promise<unknown>
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  ssubscribe?(channel: string): Promise<unknown>
  sunsubscribe?(channel: string): Promise<unknown>
  disconnect(): void
}

interface IORedisClusterLike extends IORedisLike {
  nodes(role?: 'master' | 'slave' | 'all'): IORedisLike[]
  /** `shardedSubscribers: true` gives the cluster one subscriber per master for SSUBSCRIBE (5.5+). */
  readonly options?: { readonly shardedSubscribers?: boolean }
}

/** True for an ioredis client or cluster (it has `callBuffer` and a `status`). */
export function isIORedis(client: object): boolean {
  const c = client as Record<string, unknown>
  return typeof c['callBuffer'] === 'function' && typeof c['status'] === 'string'
}

export function wrapIORedis(client: object, events: DriverEvents): RedisDriver {
  const c = client as IORedisLike
  const cluster =
    typeof (client as Partial<IORedisClusterLike>).nodes === 'function'
      ? (client as IORedisClusterLike)
      : undefined
  c.on('ready', () => events.ready())
  c.on('error', (error: unknown) => events.down(error))
  c.on('end', () => events.down(new Error('connection closed')))
  const sender =
    (target: IORedisLike): NodeSender =>
    (args) =>
      target.callBuffer(String(args[0]), args.slice(1) as RedisArg[])
  const send = sender(c)
  return {
    topology: cluster ? 'cluster' : 'standalone',
    get ready() {
      return c.status === 'ready'
    },
    send: (args) => send(args),
    masters: async () => (cluster ? cluster.nodes('master').map(sender) : [send]),
    isServerError: (error) => error instanceof Error && error.name === 'ReplyError',
    pubsub: lazyPubSub(() => ioredisSubscriber(c.duplicate())),
    // Without `shardedSubscribers`, an ioredis Cluster sends SSUBSCRIBE down its one subscriber
    // connection to whichever node, which answers MOVED for most slots.
    sharded: cluster?.options?.shardedSubscribers === true,
    close: async () => {},
  }
}

/**
 * One duplicate connection per store for pub/sub, used only once it is ready: with the offline
 * queue off (as recommended), a SUBSCRIBE sent before that fails. ioredis reconnects it and
 * re-subscribes its channels itself; `close()` disconnects it, half-made or not.
 */
function ioredisSubscriber(subscriber: IORedisSubscriber): PubSubConnection {
  const listeners = new Map<string, Set<BufferListener>>()
  const shardedListeners = new Map<string, Set<BufferListener>>()
  const onStatus = statusFeed(subscriber, 'close')
  const dispatch =
    (from: Map<string, Set<BufferListener>>) =>
    (channel: unknown, message: unknown): void => {
      const set = from.get(String(channel))
      if (set) for (const listener of set) listener(message as Buffer)
    }
  subscriber.on('messageBuffer', dispatch(listeners))
  subscriber.on('smessageBuffer', dispatch(shardedListeners))
  // A duplicate of a lazyConnect client waits for a command that, with the queue off, would fail.
  if (subscriber.status === 'wait') subscriber.connect().catch(() => {})
  return {
    get ready() {
      return subscriber.status === 'ready'
    },
    onStatus,
    subscribe: async (channel, listener, sharded) => {
      await (sharded ? subscriber.ssubscribe!(channel) : subscriber.subscribe(channel))
      const map = sharded ? shardedListeners : listeners
      let set = map.get(channel)
      if (!set) map.set(channel, (set = new Set()))
      set.add(listener)
    },
    unsubscribe: async (channel, listener, sharded) => {
      const map = sharded ? shardedListeners : listeners
      const set = map.get(channel)
      set?.delete(listener)
      if (set?.size === 0) {
        map.delete(channel)
        await (sharded ? subscriber.sunsubscribe!(channel) : subscriber.unsubscribe(channel))
      }
    },
    close: async () => {
      listeners.clear()
      shardedListeners.clear()
      subscriber.disconnect()
    },
  }
}
