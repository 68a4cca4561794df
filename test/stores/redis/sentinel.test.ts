import { createSentinel } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { waitFor } from '../../support/processes.js'
import { redisAvailable } from '../../support/redis.js'
import { type SentinelSetup, startSentinel } from '../../support/redis-topologies.js'
import { topologyChecks } from '../../support/redis-topology-suite.js'

describe.skipIf(!redisAvailable())('redis store on Sentinel', () => {
  let setup: SentinelSetup
  beforeAll(async () => {
    setup = await startSentinel()
  })
  afterAll(async () => {
    await setup?.stop()
  })

  topologyChecks(
    'redis sentinel',
    () => setup.url,
    () =>
      createSentinel({
        name: setup.masterName,
        sentinelRootNodes: setup.sentinels.map((port) => ({ host: '127.0.0.1', port })),
      }),
    500,
  )

  it('its invalidation bus does not vouch for the order of writes: a client may pool its master connections', async () => {
    const store = redisStore({ url: setup.url, timeout: 1000 })
    await store.ready()
    // A tiered cache on it publishes each invalidation only once the write is answered.
    expect(store.invalidationBus().inOrderWith?.(store)).toBe(false)
    await store.close()
  })

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
