import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { waitFor } from '../../support/processes.js'
import { redisAvailable } from '../../support/redis.js'
import { type ClusterSetup, startCluster } from '../../support/redis-topologies.js'
import { topologyChecks } from '../../support/redis-topology-suite.js'

describe.skipIf(!redisAvailable())('redis store on Cluster (3 masters, 3 replicas)', () => {
  let setup: ClusterSetup
  beforeAll(async () => {
    setup = await startCluster()
  }, 60_000)
  afterAll(async () => {
    await setup?.stop()
  })

  topologyChecks(
    'redis cluster',
    () => setup.url,
    () => createCluster({ rootNodes: setup.rootNodes.map((socket) => ({ socket })) }),
    1000,
  )

  it('its invalidation bus does not vouch for the order of writes: the key and the channel live on different nodes', async () => {
    const store = redisStore({ url: setup.url, timeout: 1000 })
    await store.ready()
    // A tiered cache on it publishes each invalidation only once the write is answered.
    expect(store.invalidationBus().inOrderWith?.(store)).toBe(false)
    await store.close()
  })

  it('spreads keys over masters and still finds, counts and deletes them all', async () => {
    const store = redisStore({ url: setup.url, timeout: 1000 })
    const cache = createCache({ store, prefix: 'spread' })
    const entries: Record<string, number> = {}
    for (let i = 0; i < 600; i++) entries[`k${i}`] = i
    await cache.setMany(entries, { tags: ['all'] })
    const found = await cache.getMany(Object.keys(entries))
    expect(found.size).toBe(600)
    const perMaster = setup.nodes.slice(0, 3).map((n) => Number(n.cli('DBSIZE')))
    expect(perMaster.filter((size) => size > 0).length).toBeGreaterThanOrEqual(2)
    let count = 0
    for await (const _ of cache.keys()) count++
    expect(count).toBe(600)
    expect((await store.inspect()).nodes).toBe(3)
    expect(await cache.deleteByTag('all')).toBe(600)
    await cache.setMany(entries)
    expect(await cache.deletePattern('k*')).toBe(600)
    await cache.close()
  })

  it('survives a master failover: ignore callers see no errors, throw callers recover', async () => {
    const ignoring = createCache({
      store: redisStore({ url: setup.url, onError: 'ignore', onLog: () => {} }),
      prefix: 'fo',
    })
    const throwing = createCache({
      store: redisStore({ url: setup.url, timeout: 500, onLog: () => {} }),
      prefix: 'fo',
    })
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
    for (const key of keys) await throwing.set(key, 1)
    const codes = new Set<string>()
    let ignoredThrew = false
    let running = true
    const loop = (async () => {
      while (running) {
        for (const key of keys.slice(0, 10)) {
          await ignoring.get(key).catch(() => {
            ignoredThrew = true
          })
          await throwing.set(key, 2).catch((error: { code?: string }) => codes.add(String(error.code)))
        }
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const victim = setup.nodes[0]!
    await victim.kill()
    const survivor = setup.nodes[1]!
    // Wait until a replica has taken over the dead master's slots (not merely cluster_state:ok).
    await waitFor(
      () =>
        survivor
          .cli('CLUSTER', 'NODES')
          .split('\n')
          .some(
            (line) =>
              line.includes(' master ') && !line.includes(`:${victim.port}@`) && /\b0-5460\b/.test(line),
          ),
      30_000,
      200,
    )
    await waitFor(
      async () => {
        const results = await Promise.all(
          keys.map((key) =>
            throwing.set(key, 3).then(
              () => true,
              () => false,
            ),
          ),
        )
        return results.every(Boolean)
      },
      15_000,
      200,
    )
    running = false
    await loop
    expect(ignoredThrew).toBe(false)
    expect([...codes].every((code) => code === 'E_STORE_UNAVAILABLE')).toBe(true)
    await waitFor(async () => (await ignoring.getMany(keys)).size === keys.length, 10_000, 100)
    await ignoring.close()
    await throwing.close()
  }, 60_000)
})
