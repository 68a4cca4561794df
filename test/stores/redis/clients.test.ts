import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { type RedisServer, redisAvailable, startRedis } from '../../support/redis.js'

async function roundTrip(store: ReturnType<typeof redisStore>, prefix: string) {
  const cache = createCache({ store, prefix })
  const value = { at: new Date(5), n: 10n, m: new Map([[1, 'a']]) }
  await cache.set('k', value, { ttl: '1m', tags: ['t'] })
  expect(await cache.get('k')).toEqual(value)
  expect(await cache.incr('c', 2)).toBe(2)
  expect([...(await cache.getMany(['k', 'c', 'x'])).keys()]).toEqual(['k', 'c'])
  const keys: string[] = []
  for await (const key of cache.keys()) keys.push(key)
  expect(keys.sort()).toEqual(['c', 'k'])
  expect(await cache.deleteByTag('t')).toBe(1)
  expect(await cache.deletePattern('*')).toBe(1)
  return cache
}

describe.skipIf(!redisAvailable())('redisStore over TLS and with clients passed in', () => {
  let tlsServer: RedisServer
  let plain: RedisServer

  beforeAll(async () => {
    ;[tlsServer, plain] = await Promise.all([startRedis({ tls: true, password: 'tls-pass' }), startRedis()])
  })
  afterAll(async () => {
    await tlsServer?.stop()
    await plain?.stop()
  })

  it('connects with rediss:// and a CA for the self-signed certificate', async () => {
    const store = redisStore({ url: tlsServer.url, tls: { ca: tlsServer.tls!.ca }, timeout: 1000 })
    const cache = await roundTrip(store, 'tls')
    expect((await store.inspect()).redisVersion).toMatch(/^\d/)
    await cache.close()
  })

  it('refuses an untrusted certificate with a typed error', async () => {
    const store = redisStore({ url: tlsServer.url, timeout: 300 })
    const cache = createCache({ store, prefix: 'tls' })
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
    await cache.close()
  })

  it('uses a node-redis client it was given and leaves it open', async () => {
    const client = createClient({ url: plain.url, disableOfflineQueue: true })
    client.on('error', () => {})
    await client.connect()
    const cache = await roundTrip(redisStore({ client, timeout: 1000 }), 'given')
    await cache.close()
    expect(client.isOpen).toBe(true)
    expect(await client.ping()).toBe('PONG')
    client.destroy()
  })

  it('uses an ioredis client through the adapter', async () => {
    const client = new Redis({
      host: plain.host,
      port: plain.port,
      enableOfflineQueue: false,
      lazyConnect: true,
    })
    client.on('error', () => {})
    await client.connect()
    const cache = await roundTrip(redisStore({ client, timeout: 1000 }), 'ioredis')
    await cache.set('n', 5)
    expect(await cache.incr('n')).toBe(6)
    await cache.close()
    expect(client.status).toBe('ready')
    client.disconnect()
  })
})
