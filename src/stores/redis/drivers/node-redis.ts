import { createRequire } from 'node:module'
import type { ConnectionOptions } from 'node:tls'
import { InvalidOptionError } from '../../../errors.js'
import type {
  BufferListener,
  DriverEvents,
  NodeSender,
  PubSubConnection,
  RedisArg,
  RedisDriver,
} from '../driver.js'
import type { RedisConnection } from '../url.js'
import { clusterPubSub, type SlotsLike } from './sharded.js'
import { type Emitter, lazyPubSub, statusFeed } from './shared.js'

/**
 * node-redis (the `redis` package, v5+) adapter: standalone clients, Sentinel and Cluster. Blob
 * strings are mapped to Buffers per call and node-redis's own per-command timer is turned off
 * (`timeout: 0`): the store enforces deadlines itself, without a timer per command.
 */

/** RESP_TYPES.BLOB_STRING: read values as Buffers whatever the client's own type mapping. */
const COMMAND_OPTIONS = Object.freeze({ typeMapping: Object.freeze({ 36: Buffer }), timeout: 0 })

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
  sSubscribe?(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
  sUnsubscribe?(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>
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
  /**
   * node-redis internals (5.x/6.x): the slot map, whose `rediscover()` re-reads the topology and
   * whose `slots` hold each master's sharded pub/sub connection (see sharded.ts).
   */
  readonly _slots?: SlotsLike
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

let loaded: RedisModule | undefined

// Start loading node-redis in the background as soon as this module is imported: a store created
// a moment later then finds it loaded instead of blocking the event loop while it loads. A store
// created before that finishes loads it synchronously. Without the package (an ioredis user) this
// quietly does nothing.
import('redis').then(
  () => {
    loaded ??= createRequire(import.meta.url)('redis') as RedisModule
  },
  () => {},
)

/**
 * Loads node-redis synchronously, when the first store is created: loading it lazily on first use
 * took longer than a call's startup wait on a busy machine. node-redis ships CommonJS, so
 * `require` gives it at once; every later store reuses it.
 */
function loadRedis(): RedisModule {
  if (loaded) return loaded
  try {
    loaded = createRequire(import.meta.url)('redis') as RedisModule
    return loaded
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

/** Creates a node-redis client for the connection and starts connecting it in the background. */
export function createNodeRedisDriver(options: NodeRedisConnectOptions): RedisDriver {
  const redis = loadRedis()
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
  if (typeof c['withTypeMapping'] !== 'function') {
    // node-redis 4 has no per-command type mapping: it would read every value as a UTF-8 string,
    // so binary values (compressed, msgpack) would come back broken and read as misses.
    throw new InvalidOptionError(
      'This node-redis client is older than v5; redisStore needs redis (node-redis) 5 or 6 or ioredis 5: ' +
        'npm install redis@6, or pass { url } and let the store create its client',
    )
  }
  if (typeof c['nodeClient'] === 'function' && 'masters' in c) {
    return clusterDriver(client as NodeRedisClusterLike, events, false)
  }
  if (typeof c['getMasterNode'] === 'function' || typeof c['getSentinelNode'] === 'function') {
    return sentinelDriver(client as NodeRedisSentinelLike, events, false)
  }
  return clientDriver(client as NodeRedisClientLike, events, false)
}

function watch(
  target: Emitter & { isOpen: boolean; connect(): Promise<unknown> },
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

/** The longest close() waits for a TCP connect in progress to finish before destroying the client. */
const DIAL_WAIT_MS = 500

/**
 * Knows when a node-redis client is opening a TCP connection. node-redis assigns the socket only
 * once the connect completes, so a client destroyed in that window cannot reach it and the socket
 * then connects and stays open: destroy waits (briefly) for the dial to end first.
 */
function dialing(target: Emitter): (then: () => void) => Promise<void> {
  let dialing = true
  let waiters: (() => void)[] = []
  const settled = () => {
    dialing = false
    for (const wake of waiters) wake()
    waiters = []
  }
  target.on('reconnecting', () => {
    dialing = true
  })
  target.on('connect', settled)
  target.on('error', settled)
  target.on('ready', settled)
  return async (then) => {
    if (dialing) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        timer = setTimeout(resolve, DIAL_WAIT_MS)
      })
      clearTimeout(timer)
    }
    then()
  }
}

function clientDriver(client: NodeRedisClientLike, events: DriverEvents, owned: boolean): RedisDriver {
  const whenDialed = dialing(client)
  watch(client, events, owned)
  const send: NodeSender = (args) => client.sendCommand(args, COMMAND_OPTIONS)
  return oneMaster(
    'standalone',
    client,
    send,
    () => duplicateSubscriber(client),
    async () => {
      if (owned && client.isOpen) {
        await whenDialed(() => {
          if (client.isOpen) client.destroy()
        })
      }
    },
  )
}

/**
 * A client in subscriber mode takes no other command, so standalone pub/sub runs on one duplicate
 * connection per store, made once and connected in the background; node-redis reconnects it and
 * re-subscribes its channels. `close()` destroys it in whatever state it is, half-made included.
 */
function duplicateSubscriber(client: NodeRedisClientLike): PubSubConnection {
  const subscriber = client.duplicate()
  subscriber.on('error', () => {})
  const onStatus = statusFeed(subscriber, 'end')
  const whenDialed = dialing(subscriber)
  subscriber.connect().catch(() => {})
  return {
    get ready() {
      return subscriber.isReady
    },
    onStatus,
    subscribe: async (channel, listener) => {
      await subscriber.subscribe(channel, listener, true)
    },
    unsubscribe: async (channel, listener) => {
      await subscriber.unsubscribe(channel, listener, true)
    },
    close: async () => {
      await whenDialed(() => {
        if (subscriber.isOpen) subscriber.destroy()
      })
    },
  }
}

function sentinelDriver(sentinel: NodeRedisSentinelLike, events: DriverEvents, owned: boolean): RedisDriver {
  watch(sentinel, events, owned)
  const send: NodeSender = (args) => sentinel.sendCommand(false, args, COMMAND_OPTIONS)
  return oneMaster(
    'sentinel',
    sentinel,
    send,
    () => ownPubSub(sentinel),
    async () => {
      if (owned && sentinel.isOpen) await sentinel.destroy()
    },
  )
}

/** A driver with one master (standalone, or Sentinel's current master): every command goes to it. */
function oneMaster(
  topology: 'standalone' | 'sentinel',
  client: { readonly isReady: boolean },
  send: NodeSender,
  pubsub: () => PubSubConnection,
  close: () => Promise<void>,
): RedisDriver {
  return {
    topology,
    get ready() {
      return client.isReady
    },
    send,
    masters: async () => [send],
    isServerError: isErrorReply,
    pubsub: lazyPubSub(pubsub),
    sharded: false,
    close,
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
    pubsub: lazyPubSub(() => clusterPubSub(cluster, () => cluster._slots)),
    sharded: typeof cluster.sSubscribe === 'function',
    close: async () => {
      if (owned && cluster.isOpen) cluster.destroy()
    },
  }
}

/**
 * Sentinel clients keep a pub/sub connection of their own and re-subscribe after a failover
 * (Cluster's, with sharded channels, is in sharded.ts). Their status listeners are registered once per store, not per attempt; `close()`
 * drops this store's channels (the client itself is destroyed by the driver when the store owns it).
 */
function ownPubSub(client: PubSubLike & Emitter & { isReady: boolean }): PubSubConnection {
  const onStatus = statusFeed(client, 'end')
  const mine = new Map<BufferListener, string>()
  return {
    get ready() {
      return client.isReady
    },
    onStatus,
    subscribe: async (channel, listener) => {
      await client.subscribe(channel, listener, true)
      mine.set(listener, channel)
    },
    unsubscribe: async (channel, listener) => {
      mine.delete(listener)
      await client.unsubscribe(channel, listener, true)
    },
    close: async () => {
      const drops = [...mine].map(([listener, channel]) =>
        client.unsubscribe(channel, listener, true).catch(() => {}),
      )
      mine.clear()
      await Promise.all(drops)
    },
  }
}
