import { beforeAll, describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

/** close() of a tiered cache whose bus subscription never came up settles within 2 s. */
describe.skipIf(!redisAvailable())('closing a tiered cache whose bus never subscribed', () => {
  const server = useRedisServer()
  beforeAll(async () => {
    // A user who may run commands but not use any pub/sub channel.
    server.cli('ACL', 'SETUSER', 'nochan', 'on', '>secret', '~*', '+@all', 'resetchannels')
  })

  const timeClose = async (url: string) => {
    const cache = createCache({
      tiers: [memoryStore(), redisStore({ url, timeout: 300, onLog: () => {} })],
      prefix: 'tc',
    })
    await cache.get('k').catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const started = Date.now()
    await cache.close()
    return Date.now() - started
  }

  it('with a user that has no channel access', async () => {
    const url = new URL(server.url)
    url.username = 'nochan'
    url.password = 'secret'
    expect(await timeClose(url.toString())).toBeLessThan(2000)
  })

  it('with Redis down at startup', async () => {
    await server.kill()
    try {
      expect(await timeClose(server.url)).toBeLessThan(2000)
    } finally {
      await server.restart()
    }
  })
})
