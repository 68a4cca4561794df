import { afterEach, beforeEach, describe, it } from 'vitest'
import { memoryStore } from '../../src/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { runStoreConformance } from '../../src/testing/index.js'
import { bytesMapStoreWithTtl } from '../support/bytes-store.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'

/** The store contract as users of a tiered cache see it: touch, incr and tags as on one store. */
const api = { describe, it, beforeEach, afterEach }
const l1 = () => memoryStore()

runStoreConformance(api, { name: 'memory', createStore: () => memoryStore(), l1 })
runStoreConformance(api, { name: 'bytes map (codec path)', createStore: () => bytesMapStoreWithTtl(), l1 })

describe.skipIf(!redisAvailable())('tiers over redis', () => {
  const server = useRedisServer()
  runStoreConformance(api, {
    name: 'redis standalone',
    createStore: () => redisStore({ url: server.url, timeout: 500, onLog: () => {} }),
    l1,
  })
})
