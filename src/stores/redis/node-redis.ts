import type { ConnectionOptions } from 'node:tls'
import { InvalidOptionError } from '../../errors.js'
import {
  type DriverEvents,
  followStatus,
  type NodeSender,
  type RedisArg,
  type RedisDriver,
  type SubscriptionStatus,
  type Unsubscribe,
} from './driver.js'
import type { RedisConnection } from './url.js'

/**
 * node-redis (the `redis` package, v5+) adapter: standalone clients, Sentinel and Cluster. Blob
 * strings are mapped to Buffers per call and node-redis's own per-command timer is turned off
 * (`timeout: 0`): the store enforces deadlines itself, without a timer per command.
 */

/** RESP_TYPES.BLOB_STRING: read values as Buffers whatever the client's own type mapping. */
const COMMAND_OPTIONS = Object.freeze({ typeMapping: Object.freeze({ 36: Buffer }), timeout: 0 })

type BufferListener = (message: Buffer, channel: Buffer) => void

interface PubSubLike {
  subscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
  unsubscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
}

interface NodeRedisClientLike extends PubSubLike {
  readonly isReady: boolean
  readonly isOpen: boolean
  sendCommand(args: readonly RedisArg[], options?: object): Promise<unknown>
  connect(): Promise<unknown>
  destroy(): unknown
  duplicate(): NodeRedisClientLike
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

interface NodeRedisClusterLike extends PubSubLike {
  readonly isReady: boolean
  readonly isOpen: boolean
  readonly masters: readonly unknown[]
  sendCommand(
    key: RedisArg | undefined,
    readonly: boolean | undefined,
    args: readonly RedisArg[],
    options?: object,
  ): Promise<unknown>
  nodeClient(node: unknown): Promise<NodeRedisClientLike> | NodeRedisClientLike
  /** node-redis internals (5.x/6.x): the slot map, whose `rediscover()` re-reads the topology. */
  readonly _slots?: { rediscover?(): Promise<void> }
  connect(): Promise<unknown>
  destroy(): unknown
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

interface NodeRedisSentinelLike extends PubSubLike {
  readonly isReady: boolean
  readonly isOpen: boolean
  sendCommand(readonly: boolean | undefined, args: readonly RedisArg[], options?: object): Promise<unknown>
  connect(): Promise<unknown>
  destroy(): unknown
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

type RedisModule = typeof import('redis')

async function loadRedis(): Promise<RedisModule> {
  try {
    return await import('redis')
  } catch (error) {
    throw new InvalidOptionError(
      'redisStore needs the "redis" package (node-redis): npm install redis, or pass an ioredis client',
      { cause: error },
    )
  }
}

function isErrorReply(error: unknown): boolean {
  // ErrorReply, SimpleError, BlobError and MultiErrorReply all carry this name chain.
  return (
    error instanceof Error &&
    /^(ErrorReply|SimpleError|BlobError|MultiErrorReply)$/.test(error.constructor.name)
  )
}

export interface NodeRedisConnectOptions {
  readonly connection: RedisConnection
  readonly tls: ConnectionOptions | undefined
  readonly connectTimeout: number
  readonly reconnect: (retries: number) => number
  readonly events: DriverEvents
}

/** Creates and connects (in the background) a node-redis client for the connection. */
export async function createNodeRedisDriver(options: NodeRedisConnectOptions): Promise<RedisDriver> {
  const redis = await loadRedis()
  const { connection } = options
  const socketCommon = {
    connectTimeout: options.connectTimeout,
    reconnectStrategy: (retries: number) => options.reconnect(retries),
    ...(connection.tls ? { tls: true as const, ...options.tls } : {}),
  }
  const clientCommon = {
    ...(connection.username === undefined ? {} : { username: connection.username }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
    disableOfflineQueue: true,
    commandOptions: COMMAND_OPTIONS,
  }
  if (connection.topology === 'standalone') {
    const client = redis.createClient({
      ...clientCommon,
      database: connection.database,
      socket: { host: connection.host, port: connection.port, ...socketCommon },
    }) as unknown as NodeRedisClientLike
    return clientDriver(client, options.events, true)
  }
  if (connection.topology === 'cluster') {
    const cluster = redis.createCluster({
      rootNodes: connection.nodes.map((n) => ({ socket: { host: n.host, port: n.port, ...socketCommon } })),
      defaults: { ...clientCommon, socket: socketCommon },
      commandOptions: COMMAND_OPTIONS,
      // Re-read the topology each second while a node is unreachable, so a failover is noticed
      // quickly (the default waits 5 s).
      topologyRefreshOnReconnectionAttemptStrategy: 1000,
    }) as unknown as NodeRedisClusterLike
    return clusterDriver(cluster, options.events, true)
  }
  const sentinel = redis.createSentinel({
    name: connection.masterName,
    sentinelRootNodes: connection.sentinels.map((n) => ({ host: n.host, port: n.port })),
    nodeClientOptions: { ...clientCommon, database: connection.database, socket: socketCommon },
    sentinelClientOptions: { socket: socketCommon },
    commandOptions: COMMAND_OPTIONS,
  }) as unknown as NodeRedisSentinelLike
  return sentinelDriver(sentinel, options.events, true)
}

/** Wraps a node-redis client, cluster or sentinel the caller created (and may have connected). */
export function wrapNodeRedis(client: object, events: DriverEvents): RedisDriver | undefined {
  const c = client as Record<string, unknown>
  if (typeof c['sendCommand'] !== 'function' || !('isReady' in c)) return undefined
  if (typeof c['nodeClient'] === 'function' && 'masters' in c) {
    return clusterDriver(client as NodeRedisClusterLike, events, false)
  }
  if (typeof c['getMasterNode'] === 'function' || typeof c['getSentinelNode'] === 'function') {
    return sentinelDriver(client as NodeRedisSentinelLike, events, false)
  }
  return clientDriver(client as NodeRedisClientLike, events, false)
}

function watch(
  target: {
    on(event: string, listener: (...args: unknown[]) => void): unknown
    isOpen: boolean
    connect(): Promise<unknown>
  },
  events: DriverEvents,
  owned: boolean,
): void {
  target.on('ready', () => events.ready())
  target.on('error', (error: unknown) => events.down(error))
  target.on('end', () => events.down(new Error('connection closed')))
  if (owned || !target.isOpen) {
    target.connect().then(
      () => events.ready(),
      (error: unknown) => events.down(error),
    )
  }
}

function clientDriver(client: NodeRedisClientLike, events: DriverEvents, owned: boolean): RedisDriver {
  watch(client, events, owned)
  const send: NodeSender = (args) => client.sendCommand(args, COMMAND_OPTIONS)
  return {
    topology: 'standalone',
    get ready() {
      return client.isReady
    },
    send,
    masters: async () => [send],
    isServerError: isErrorReply,
    // A client in subscriber mode takes no other command: subscribe on a duplicate of its own.
    subscribe: async (channel, listener, status) => {
      const subscriber = client.duplicate()
      followStatus(subscriber, status)
      await subscriber.connect()
      await subscriber.subscribe(channel, listener, true)
      return async () => {
        await subscriber.unsubscribe(channel, listener, true).catch(() => {})
        subscriber.destroy()
      }
    },
    close: async () => {
      if (owned && client.isOpen) client.destroy()
    },
  }
}

function sentinelDriver(sentinel: NodeRedisSentinelLike, events: DriverEvents, owned: boolean): RedisDriver {
  watch(sentinel, events, owned)
  const send: NodeSender = (args) => sentinel.sendCommand(false, args, COMMAND_OPTIONS)
  return {
    topology: 'sentinel',
    get ready() {
      return sentinel.isReady
    },
    send,
    masters: async () => [send],
    isServerError: isErrorReply,
    subscribe: (channel, listener, status) => subscribeOn(sentinel, channel, listener, status),
    close: async () => {
      if (owned && sentinel.isOpen) await sentinel.destroy()
    },
  }
}

function clusterDriver(cluster: NodeRedisClusterLike, events: DriverEvents, owned: boolean): RedisDriver {
  watch(cluster, events, owned)
  let lastRediscover = 0
  return {
    topology: 'cluster',
    get ready() {
      return cluster.isReady
    },
    send: (args, key) =>
      cluster.sendCommand(key, false, args, COMMAND_OPTIONS).catch((error: unknown) => {
        // A slot's master is unreachable: node-redis keeps routing to it until it re-reads the
        // topology, which it does not do on its own for offline errors. Ask for it, once a second.
        if (!isErrorReply(error) && performance.now() - lastRediscover > 1000) {
          lastRediscover = performance.now()
          cluster._slots?.rediscover?.().catch(() => {})
        }
        throw error
      }),
    masters: async () => {
      const clients = await Promise.all(cluster.masters.map((node) => cluster.nodeClient(node)))
      return clients.map(
        (client): NodeSender =>
          (args) =>
            client.sendCommand(args, COMMAND_OPTIONS),
      )
    },
    isServerError: isErrorReply,
    subscribe: (channel, listener, status) => subscribeOn(cluster, channel, listener, status),
    close: async () => {
      if (owned && cluster.isOpen) cluster.destroy()
    },
  }
}

/** Sentinel and Cluster clients keep a pub/sub connection of their own and re-subscribe after a failover. */
async function subscribeOn(
  client: PubSubLike & {
    on(event: string, listener: (...args: unknown[]) => void): unknown
    isReady: boolean
  },
  channel: string,
  listener: BufferListener,
  status: SubscriptionStatus,
): Promise<Unsubscribe> {
  followStatus(client, status)
  await client.subscribe(channel, listener, true)
  if (client.isReady) status.up()
  return async () => {
    await client.unsubscribe(channel, listener, true).catch(() => {})
  }
}
