import type { PubSubConnection } from '../driver.js'

/** What both client libraries' connections have: Node-style events. */
export type Emitter = { on(event: string, listener: (...args: unknown[]) => void): unknown }

/**
 * A connection's liveness as `PubSubConnection.onStatus` hands it on: up on `ready`, down on
 * `error` and on `closed` (the library's name for a lost connection: `end` in node-redis, `close`
 * in ioredis).
 */
export function statusFeed(target: Emitter, closed: 'end' | 'close'): PubSubConnection['onStatus'] {
  const listeners: ((up: boolean) => void)[] = []
  const emit = (up: boolean) => {
    for (const listener of listeners) listener(up)
  }
  target.on('ready', () => emit(true))
  target.on('error', () => emit(false))
  target.on(closed, () => emit(false))
  return (listener) => {
    listeners.push(listener)
  }
}

/** A driver's `pubsub()`: the connection is made on the first call and shared by every later one. */
export function lazyPubSub(make: () => PubSubConnection): () => PubSubConnection {
  let pubsub: PubSubConnection | undefined
  return () => {
    pubsub ??= make()
    return pubsub
  }
}
