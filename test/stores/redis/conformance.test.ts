import { afterEach, beforeEach, describe, it } from 'vitest'
import { redisStore } from '../../../src/stores/redis/index.js'
import { runStoreConformance } from '../../../src/testing/index.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

describe.skipIf(!redisAvailable())('redis store conformance (standalone)', () => {
  const server = useRedisServer()
  runStoreConformance(
    { describe, it, beforeEach, afterEach },
    { name: 'redis standalone', createStore: () => redisStore({ url: server.url, timeout: 500 }) },
  )
})
