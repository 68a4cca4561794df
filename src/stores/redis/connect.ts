import { CacheError, InvalidOptionError } from '../../errors.js'
import type { DriverEvents, RedisDriver, SubscriptionStatus, Unsubscribe } from './driver.js'
import type { Guard } from './guard.js'
import { isIORedis, wrapIORedis } from './ioredis.js'
import { createNodeRedisDriver, wrapNodeRedis } from './node-redis.js'
import type { ResolvedOptions } from './options.js'

/**
 * Connects the store's guard to Redis: adopts a client the caller passed in, or creates a
 * node-redis client that connects in the background and reconnects forever with backoff, so a
 * store created while Redis is down neither blocks nor throws, and works once Redis appears.
 */
export function connect(guard: Guard, options: ResolvedOptions): void {
  let settle: ((error?: unknown) => void) | undefined
  guard.initial = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error))
  })
  guard.initial.catch(() => {})
  const events: DriverEvents = {
    ready: () => {
      guard.initial = undefined
      settle?.()
      settle = undefined
      guard.connected()
    },
    down: (error) => {
      guard.initial = undefined
      settle?.(error instanceof Error ? error : new Error(String(error)))
      settle = undefined
    },
  }
  const adopt = (driver: RedisDriver) => {
    guard.driver = driver
    if (guard.closed) driver.close().catch(() => {})
    else if (driver.ready) events.ready()
  }
  if (options.client !== undefined) {
    const driver = isIORedis(options.client)
      ? wrapIORedis(options.client, events)
      : wrapNodeRedis(options.client, events)
    if (!driver) {
      throw new InvalidOptionError('redisStore client must be a node-redis or ioredis client')
    }
    adopt(driver)
    return
  }
  const maxDelay = options.maxReconnectDelay
  createNodeRedisDriver({
    connection: options.connection!,
    tls: options.tls,
    connectTimeout: options.connectTimeout,
    // Exponential backoff with jitter, forever: the store connects whenever Redis appears.
    reconnect: (retries) =>
      Math.min(maxDelay, 25 * 2 ** Math.min(retries, 10)) + Math.floor(Math.random() * 25),
    events,
  }).then(adopt, (error: unknown) => {
    events.down(error)
    guard.log({ level: 'warn', message: error instanceof Error ? error.message : String(error) })
  })
}

/**
 * Subscribes once the client exists, retrying with backoff; `status` says when it is live. The
 * returned function unsubscribes and is also kept in `subscriptions`, which the store closes.
 */
export async function subscribeWhenConnected(
  guard: Guard,
  subscriptions: Set<Unsubscribe>,
  channel: string,
  listener: (message: Buffer) => void,
  status: SubscriptionStatus,
): Promise<Unsubscribe> {
  for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
    if (guard.closed) throw new CacheError('The Redis store was closed')
    const driver = guard.driver
    if (driver !== undefined) {
      try {
        const unsubscribe = await driver.subscribe(channel, listener, status)
        const tracked = async () => {
          subscriptions.delete(tracked)
          await unsubscribe()
        }
        subscriptions.add(tracked)
        return tracked
      } catch {
        status.down()
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delay).unref())
  }
}
