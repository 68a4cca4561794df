import { afterAll, beforeAll } from 'vitest'
import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { createSessions, type Sessions, type SessionsOptions } from '../../src/session/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { type RedisServer, redisAvailable, startRedis } from './redis.js'

export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
export const hasRedis = redisAvailable()

/**
 * A place sessions live: `cache()` gives a new cache over it, as each app instance would open its
 * own (on Redis: its own connection to the same server; on memory: the same store, one process).
 */
export interface Backing {
  readonly name: 'memory' | 'redis'
  cache(): Cache
}

/** Starts one harness Redis for the file (when there is one) and closes every cache it handed out. */
export function backings(): Backing[] {
  let server: RedisServer | undefined
  const caches: Cache[] = []
  const shared = memoryStore()
  beforeAll(async () => {
    if (hasRedis) server = await startRedis()
  })
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()))
    await server?.stop()
  })
  const memory: Backing = {
    name: 'memory',
    cache() {
      const cache = createCache({ store: shared, prefix: 'app' })
      caches.push(cache)
      return cache
    },
  }
  const redis: Backing = {
    name: 'redis',
    cache() {
      if (server === undefined) throw new Error('no Redis')
      const cache = createCache({ store: redisStore({ url: server.url, timeout: 2000 }), prefix: 'app' })
      caches.push(cache)
      return cache
    },
  }
  return hasRedis ? [memory, redis] : [memory]
}

export function sessionsOn(cache: Cache, options: Partial<SessionsOptions> = {}): Sessions {
  return createSessions({ cache, secret: SECRET, ttl: '1h', ...options })
}

/** A browser's cookie jar for one site, carried between requests (and between app instances). */
export class Jar {
  readonly #cookies = new Map<string, string>()

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair?.indexOf('=') ?? -1
      if (pair === undefined || eq < 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name)
  }

  copy(): Jar {
    const jar = new Jar()
    for (const [k, v] of this.#cookies) jar.#cookies.set(k, v)
    return jar
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = this.header()
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers })
    this.take(response)
    return response
  }
}

/** The session id inside a signed cookie value (`s:<id>.<sig>` for express, `<id>.<sig>` for fastify). */
export function idFromSignedCookie(value: string | undefined): string {
  if (value === undefined) throw new Error('no session cookie')
  const decoded = decodeURIComponent(value).replace(/^s:/, '')
  return decoded.slice(0, decoded.lastIndexOf('.'))
}
