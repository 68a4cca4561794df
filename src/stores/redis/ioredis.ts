import {
  type DriverEvents,
  followStatus,
  type NodeSender,
  type RedisArg,
  type RedisDriver,
} from './driver.js'

/**
 * A thin adapter for an ioredis client or cluster the caller already runs. `callBuffer` returns
 * blob strings as Buffers. The caller owns the client: `close()` leaves it open. Create it with
 * `enableOfflineQueue: false` so commands fail fast instead of queueing while Redis is down.
 */
interface IORedisLike {
  status: string
  callBuffer(command: string, args: RedisArg[]): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  duplicate(): IORedisLike & {
    subscribe(channel: string): Promise<unknown>
    disconnect(): void
  }
}

interface IORedisClusterLike extends IORedisLike {
  nodes(role?: 'master' | 'slave' | 'all'): IORedisLike[]
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
    // A client in subscriber mode takes no other command: subscribe on a duplicate of its own.
    subscribe: async (channel, listener, status) => {
      const subscriber = c.duplicate()
      followStatus(subscriber, status)
      subscriber.on('messageBuffer', (from: unknown, message: unknown) => {
        if (String(from) === channel) listener(message as Buffer)
      })
      await subscriber.subscribe(channel)
      status.up()
      return async () => subscriber.disconnect()
    },
    close: async () => {},
  }
}
