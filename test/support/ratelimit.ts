import { createClient } from 'redis'
import { afterAll } from 'vitest'
import { type RedisServer, redisAvailable, useRedisServer } from './redis.js'

/** Under CI=true redisAvailable() throws, so the suite fails instead of skipping. */
export const hasRedis = redisAvailable()

/** A connected node-redis client (only what the tests use). */
export interface Client {
  hGetAll(key: string): Promise<Record<string, string>>
  destroy(): void
}

/** One redis-server for the file, and node-redis clients that are closed afterwards. */
export function useRedis(): { server: () => RedisServer; client: () => Promise<Client> } {
  const server = hasRedis ? useRedisServer() : undefined
  const clients: Client[] = []
  afterAll(() => {
    for (const c of clients) c.destroy()
  })
  return {
    server: () => server as RedisServer,
    async client() {
      const c = createClient({
        url: (server as RedisServer).url,
        disableOfflineQueue: true,
        socket: { reconnectStrategy: 100, connectTimeout: 500 },
      })
      c.on('error', () => {})
      await c.connect()
      clients.push(c)
      return c as unknown as Client
    },
  }
}
