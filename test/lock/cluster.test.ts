import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocks } from '../../src/lock/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { redisAvailable } from '../support/redis.js'
import { type ClusterSetup, startCluster } from '../support/redis-topologies.js'

/** Names chosen to land on different masters: each lock and its fence counter share a slot anyway. */
const NAMES = ['orders', 'shift:1', 'shift:2', 'report', 'a', 'b', 'c', 'payroll']

describe.skipIf(!redisAvailable())('locks on Redis Cluster', () => {
  let cluster: ClusterSetup
  let stores: RedisStore[] = []
  beforeAll(async () => {
    cluster = await startCluster()
    stores = [0, 1].map(() => redisStore({ url: cluster.url, timeout: 2000 }))
    await Promise.all(stores.map((s) => s.ready()))
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await cluster?.stop()
  })

  it('acquire, hand over by release message, extend and release on every master', async () => {
    const [one, two] = stores.map((store) => createLocks({ store })) as [
      ReturnType<typeof createLocks>,
      ReturnType<typeof createLocks>,
    ]
    for (const name of NAMES) {
      const first = await one.lock(name, { ttl: 10_000 })
      await first.extend(10_000)
      const started = performance.now()
      const second = two.lock(name, { ttl: 10_000, wait: 8000 })
      setTimeout(() => void first.release(), 50)
      const next = await second
      // Woken well before the 10 s TTL: by the release (message or back-off re-check).
      expect(performance.now() - started).toBeLessThan(3000)
      expect(next.token).toBeGreaterThan(first.token)
      expect(await next.release()).toBe(true)
    }
    await one.close()
    await two.close()
  }, 60_000)
})
