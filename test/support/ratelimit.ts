import { createClient } from 'redis'
import { afterAll, beforeAll } from 'vitest'
import { type RedisServer, redisAvailable, startRedis } from './redis.js'

/** Under CI=true redisAvailable() throws, so the suite fails instead of skipping. */
export const hasRedis = redisAvailable()

/** A connected node-redis client (only what the tests use). */
export interface Client {
  hGetAll(key: string): Promise<Record<string, string>>
  destroy(): void
}

/** One redis-server for the file, and node-redis clients that are closed afterwards. */
export function useRedis(): { server: () => RedisServer; client: () => Promise<Client> } {
  let server: RedisServer | undefined
  const clients: Client[] = []
  beforeAll(async () => {
    if (hasRedis) server = await startRedis()
  })
  afterAll(async () => {
    for (const c of clients) c.destroy()
    await server?.stop()
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
