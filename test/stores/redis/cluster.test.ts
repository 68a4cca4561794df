import { createCluster } from 'redis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { runStoreConformance } from '../../../src/testing/index.js'
import { activeHandles, leakedHandles, waitFor } from '../../support/processes.js'
import { redisAvailable } from '../../support/redis.js'
import { type ClusterSetup, startCluster } from '../../support/redis-topologies.js'

describe.skipIf(!redisAvailable())('redis store on Cluster (3 masters, 3 replicas)', () => {
  let setup: ClusterSetup
  beforeAll(async () => {
    setup = await startCluster()
  }, 60_000)
  afterAll(async () => {
    await setup?.stop()
  })

  runStoreConformance(
    { describe, it, beforeEach, afterEach },
    { name: 'redis cluster', createStore: () => redisStore({ url: setup.url, timeout: 1000 }) },
  )

  it('pub/sub: status listeners once per store however many subscriptions; close is bounded, no handle left', async () => {
    const client = createCluster({ rootNodes: setup.rootNodes.map((socket) => ({ socket })) })
    client.on('error', () => {})
    await client.connect()
    const events = ['ready', 'error', 'end']
    const before = events.map((e) => client.listenerCount(e))
    const given = redisStore({ client, timeout: 1000 })
    const heard: string[] = []
    for (let i = 0; i < 10; i++) await given.channel(`c${i}`).subscribe((m) => heard.push(m))
    await waitFor(() => given.stats().subscriptions.live === 10, 10_000)
    // One set for the store's connection watch, one for its pub/sub status: not one per subscription.
    expect(events.map((e, i) => client.listenerCount(e) - (before[i] as number))).toEqual([2, 2, 2])
    await given.channel('c3').publish('hello')
    await waitFor(() => heard.includes('hello'), 3000)
    await given.close()
    client.destroy()

    const handles = activeHandles()
    const store = redisStore({ url: setup.url, timeout: 1000 })
    store.channel('c').subscribe(() => {})
    await store.ready()
    await waitFor(() => store.stats().subscriptions.live === 1, 10_000)
    const started = performance.now()
    await store.close()
    expect(performance.now() - started).toBeLessThan(2000)
    expect(leakedHandles(handles)).toEqual([])
  }, 30_000)

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
