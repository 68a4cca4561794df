import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest'
import { redisStore } from '../../../src/stores/redis/index.js'
import { runStoreConformance } from '../../../src/testing/index.js'
import { type RedisServer, redisAvailable, startRedis } from '../../support/redis.js'

describe.skipIf(!redisAvailable())('redis store conformance (standalone)', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server?.stop()
  })
  runStoreConformance(
    { describe, it, beforeEach, afterEach },
    { name: 'redis standalone', createStore: () => redisStore({ url: server.url, timeout: 500 }) },
  )
})
