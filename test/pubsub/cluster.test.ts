import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { geoIndex } from '../../src/geo/index.js'
import { memoryStore } from '../../src/index.js'
import { channel } from '../../src/pubsub/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { waitFor } from '../support/processes.js'
import { redisAvailable } from '../support/redis.js'
import { type ClusterSetup, startCluster } from '../support/redis-topologies.js'

describe.skipIf(!redisAvailable())('channels and geo on Redis Cluster', () => {
  let setup: ClusterSetup
  const stores: RedisStore[] = []
  const store = () => {
    const s = redisStore({ url: setup.url, timeout: 2000 })
    stores.push(s)
    return s
  }
  beforeAll(async () => {
    setup = await startCluster()
  })
  afterAll(async () => {
    for (const s of stores) await s.close()
    await setup?.stop()
  })

  it('durable channels across nodes: order per publisher, since, names on many slots', async () => {
    const sub = store()
    const pub = store()
    const names = ['alpha', 'beta', 'gamma', 'delta']
    const got = new Map<string, number[]>()
    for (const name of names) {
      await channel<number>(name, { store: sub, durable: { maxLen: 100 } }).subscribe((n) => {
        got.set(name, [...(got.get(name) ?? []), n])
      })
    }
    await waitFor(() => sub.stats().subscriptions.live === names.length, 10_000)
    const ids: string[] = []
    for (const name of names) {
      const ch = channel<number>(name, { store: pub, durable: { maxLen: 100 } })
      for (let n = 0; n < 50; n++) ids.push((await ch.publish(n)) as string)
    }
    await waitFor(() => names.every((name) => got.get(name)?.length === 50), 10_000)
    for (const name of names) expect(got.get(name)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    const replay: number[] = []
    await channel<number>('beta', { store: pub, durable: { maxLen: 100 } }).subscribe(
      (n) => void replay.push(n),
      {
        since: ids[50 + 46],
      },
    )
    await waitFor(() => replay.length === 3, 5000)
    expect(replay).toEqual([47, 48, 49])
  })

  it('geo: the same answers as memory', async () => {
    const points: [string, { lon: number; lat: number }][] = Array.from({ length: 200 }, (_, i) => [
      `p${i}`,
      { lon: 2.2 + i * 0.0011, lat: 48.8 + ((i * 53) % 197) / 1000 },
    ])
    const results = []
    for (const s of [store(), memoryStore()]) {
      const index = geoIndex('paris', { store: s })
      await index.addMany(points)
      results.push(await index.near({ lon: 2.3, lat: 48.85 }, 5, { unit: 'km', limit: 25 }))
    }
    expect(results[0]).toHaveLength(25)
    expect(results[0]).toEqual(results[1])
  })
})
