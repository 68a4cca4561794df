import { createSentinel } from 'redis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { runStoreConformance } from '../../../src/testing/index.js'
import { activeHandles, leakedHandles, waitFor } from '../../support/processes.js'
import { redisAvailable } from '../../support/redis.js'
import { type SentinelSetup, startSentinel } from '../../support/redis-topologies.js'

describe.skipIf(!redisAvailable())('redis store on Sentinel', () => {
  let setup: SentinelSetup
  beforeAll(async () => {
    setup = await startSentinel()
  })
  afterAll(async () => {
    await setup?.stop()
  })

  runStoreConformance(
    { describe, it, beforeEach, afterEach },
    { name: 'redis sentinel', createStore: () => redisStore({ url: setup.url, timeout: 500 }) },
  )

  it('pub/sub: status listeners once per store however many subscriptions; close is bounded, no handle left', async () => {
    const client = createSentinel({
      name: setup.masterName,
      sentinelRootNodes: setup.sentinels.map((port) => ({ host: '127.0.0.1', port })),
    })
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

  // Last: it kills the master.
  it('survives a failover: ignore callers see no errors, throw callers see typed errors then recovery', async () => {
    const ignoring = createCache({
      store: redisStore({ url: setup.url, onError: 'ignore', onLog: () => {} }),
      prefix: 'fo',
    })
    const throwing = createCache({ store: redisStore({ url: setup.url, onLog: () => {} }), prefix: 'fo' })
    await throwing.set('k', 1)
    await waitFor(() => setup.replica.cli('EXISTS', 'fo:k') === '1', 5000)
    const codes = new Set<string>()
    let ignoredThrew = false
    let running = true
    const loop = (async () => {
      while (running) {
        await ignoring.get('k').catch(() => {
          ignoredThrew = true
        })
        await throwing.get('k').catch((error: { code?: string }) => codes.add(String(error.code)))
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    await setup.failover()
    await waitFor(async () => (await throwing.get('k').catch(() => undefined)) === 1, 15_000, 100)
    running = false
    await loop
    expect(ignoredThrew).toBe(false)
    expect([...codes].every((code) => code === 'E_STORE_UNAVAILABLE')).toBe(true)
    await throwing.set('k', 2)
    await waitFor(async () => (await ignoring.get('k')) === 2, 5000, 50)
    await ignoring.close()
    await throwing.close()
  }, 40_000)
})
