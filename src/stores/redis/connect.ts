import { InvalidOptionError } from '../../errors.js'
import type { DriverEvents, RedisDriver } from './driver.js'
import { createNodeRedisDriver, isIORedis, wrapIORedis, wrapNodeRedis } from './drivers/index.js'
import type { Guard } from './guard.js'
import type { ResolvedOptions } from './options.js'

/**
 * Connects the store's guard to Redis, synchronously: adopts a client the caller passed in, or
 * creates a node-redis client (the library is loaded now, not on first use) that connects in the
 * background and reconnects forever with backoff, so a store created while Redis is down neither
 * blocks nor throws, and works once Redis appears.
 */
export function connect(guard: Guard, options: ResolvedOptions): void {
  const events: DriverEvents = {
    ready: () => guard.connected(),
    down: (error) => guard.down(error),
    sleeping: (ms) => guard.sleeping(ms),
  }
  let driver: RedisDriver | undefined
  if (options.client !== undefined) {
    driver = isIORedis(options.client)
      ? wrapIORedis(options.client, events)
      : wrapNodeRedis(options.client, events)
    if (!driver) {
      throw new InvalidOptionError('redisStore client must be a node-redis or ioredis client')
    }
  } else {
    const maxDelay = options.maxReconnectDelay
    driver = createNodeRedisDriver({
      connection: options.connection!,
      tls: options.tls,
      connectTimeout: options.connectTimeout,
      // Exponential backoff with jitter, forever: the store connects whenever Redis appears.
      reconnect: (retries) => {
        const ms = Math.min(maxDelay, 25 * 2 ** Math.min(retries, 10)) + Math.floor(Math.random() * 25)
        events.sleeping?.(ms)
        return ms
      },
      events,
    })
  }
  guard.driver = driver
  guard.begin()
  if (driver.ready) guard.connected()
}
