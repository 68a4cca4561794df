import { randomUUID } from 'node:crypto'
import type { Store } from '../stores/index.js'

/**
 * What one instance tells the others after a write: which L1 copies to drop. Keys, patterns and
 * tags only, never values.
 */
export interface Invalidation {
  /** The sending instance, so it can ignore its own messages. */
  readonly origin: string
  readonly keys?: readonly string[]
  readonly patterns?: readonly string[]
  readonly tags?: readonly string[]
}

/** What a bus tells a subscriber. */
export interface BusListener {
  /** A message from another instance. */
  message(invalidation: Invalidation): void
  /** The bus lost its connection: messages may be missed from now until `up`. */
  down(): void
  /** The bus is connected again (or for the first time). */
  up(): void
}

/**
 * Carries invalidations between the instances of a tiered cache. cachekit ships an in-process bus
 * (`memoryBus`, for tests and several caches in one process) and a Redis pub/sub bus
 * (`cachekit/redis`); anything with these two methods works.
 */
export interface InvalidationBus {
  publish(invalidation: Invalidation): Promise<void>
  /**
   * Starts delivery to `listener`; resolves to a function that stops it. The subscription may
   * take long to come up (server down at startup, a user without channel access): a bus should
   * stop trying when `signal` aborts (the tiered cache is closing). A tiered cache never waits on
   * it for more than a moment, so a bus that ignores `signal` cannot hold `close()` up.
   */
  subscribe(listener: BusListener, signal?: AbortSignal): Promise<() => Promise<void>>
  /**
   * Optional. True when a `publish` called right after `store.set`, `setMany`, `delete` or
   * `deleteMany` was called (before it resolved) cannot reach another instance before that write
   * took effect: the store sends both down one connection to one server, which runs them in that
   * order (the Redis store's own bus, on a standalone server). A tiered cache then sends a write
   * and its invalidation in one round trip; otherwise it publishes only once the write is answered,
   * so no instance can refill its L1 from the value being replaced.
   */
  inOrderWith?(store: Store): boolean
}

/** A bus inside one process, with `disconnect`/`reconnect` to rehearse outages in tests. */
export interface MemoryBus extends InvalidationBus {
  /** Stops delivering messages, as a lost connection would, and tells every subscriber. */
  disconnect(): void
  /** Delivers again and tells every subscriber it is back. */
  reconnect(): void
}

/** An in-process {@link InvalidationBus}: every cache built with the same one sees the others' writes. */
export function memoryBus(): MemoryBus {
  const listeners = new Set<BusListener>()
  let connected = true
  return {
    async publish(invalidation) {
      if (!connected) return
      // Deliver on a later tick, as a network bus would, so tests see realistic ordering.
      queueMicrotask(() => {
        for (const listener of listeners) listener.message(invalidation)
      })
    },
    async subscribe(listener) {
      listeners.add(listener)
      if (connected) listener.up()
      return async () => {
        listeners.delete(listener)
      }
    },
    disconnect() {
      connected = false
      for (const listener of listeners) listener.down()
    },
    reconnect() {
      connected = true
      for (const listener of listeners) listener.up()
    },
  }
}

export function instanceId(): string {
  return randomUUID()
}
