/**
 * What the store needs from a Redis client, whichever library and topology is behind it. Adapters
 * (node-redis standalone, Sentinel and Cluster; ioredis) implement it; the store speaks only this.
 */
export type RedisArg = string | Buffer

export type Topology = 'standalone' | 'sentinel' | 'cluster'

/** Sends a command to one node. Blob-string replies are Buffers, integers numbers, nil null. */
export type NodeSender = (args: readonly RedisArg[]) => Promise<unknown>

export interface RedisDriver {
  readonly topology: Topology
  /** Connected and able to take commands now; false while connecting or reconnecting. */
  readonly ready: boolean
  /** Sends one command; in Cluster it goes to the node serving `key`. */
  send(args: readonly RedisArg[], key?: RedisArg): Promise<unknown>
  /** A sender per master node, for keyless commands that must reach every master (SCAN, INFO). */
  masters(): Promise<readonly NodeSender[]>
  /** True for an error the server replied with (WRONGTYPE, NOSCRIPT...), as opposed to a connection failure. */
  isServerError(error: unknown): boolean
  /**
   * The store's pub/sub connection, made on first call and shared by every subscription of the
   * store (a client in subscriber mode takes no other command). The store's subscription manager
   * (subscriptions.ts) retries and tracks liveness on top of it.
   */
  pubsub(): PubSubConnection
  /**
   * The pub/sub connection takes sharded subscriptions (SSUBSCRIBE, Redis 7+): node-redis Cluster
   * clients, and ioredis Cluster clients created with `shardedSubscribers: true`.
   */
  readonly sharded: boolean
  /** Closes connections this store opened; a client the caller passed in is left open. */
  close(): Promise<void>
}

/** A subscription's liveness: after `down`, messages may have been missed until `up`. */
export interface SubscriptionStatus {
  up(): void
  down(): void
}

export type Unsubscribe = () => Promise<void>

export type BufferListener = (message: Buffer) => void

/**
 * One pub/sub connection. It reconnects by itself and re-subscribes its channels after a
 * reconnect; `onStatus` reports every change of its connection (registered once, so retries add
 * no listeners).
 */
export interface PubSubConnection {
  /** Connected and able to take SUBSCRIBE now. */
  readonly ready: boolean
  /** Called with `true` when the connection is (again) ready, `false` when it is lost. */
  onStatus(listener: (up: boolean) => void): void
  /**
   * Sends SUBSCRIBE (SSUBSCRIBE to the node owning the channel's slot when `sharded`); resolves
   * once the server acknowledged it, rejects if refused (no retry).
   */
  subscribe(channel: string, listener: BufferListener, sharded?: boolean): Promise<void>
  unsubscribe(channel: string, listener: BufferListener, sharded?: boolean): Promise<void>
  /**
   * Hears of a sharded subscription lost without the connection's status changing (its node
   * failed over or its slot moved, and the client did not carry it to the new owner): the store
   * marks it down and subscribes it again.
   */
  onLost?(listener: (channel: string, listener: BufferListener) => void): void
  /** Destroys the connection (or, on a client the caller owns, drops this store's channels). */
  close(): Promise<void>
}

/** What an adapter reports about its connection, for readiness and logs. */
export interface DriverEvents {
  ready(): void
  down(error: unknown): void
  /** The client will retry in `ms` (node-redis's backoff sleep, which close() waits out). */
  sleeping?(ms: number): void
}
