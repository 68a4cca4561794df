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
   * Subscribes to a pub/sub channel (on a connection of its own where the client needs one) and
   * resolves to a function that unsubscribes. `status` follows that connection: after `down`,
   * messages may have been missed until `up`.
   */
  subscribe(
    channel: string,
    listener: (message: Buffer) => void,
    status: SubscriptionStatus,
  ): Promise<Unsubscribe>
  /** Closes connections this store opened; a client the caller passed in is left open. */
  close(): Promise<void>
}

export interface SubscriptionStatus {
  up(): void
  down(): void
}

export type Unsubscribe = () => Promise<void>

/** Follows a connection's events into a {@link SubscriptionStatus}. */
export function followStatus(
  target: { on(event: string, listener: (...args: unknown[]) => void): unknown },
  status: SubscriptionStatus,
): void {
  target.on('ready', () => status.up())
  target.on('error', () => status.down())
  target.on('end', () => status.down())
}

/** What an adapter reports about its connection, for readiness and logs. */
export interface DriverEvents {
  ready(): void
  down(error: unknown): void
}
