import diagnostics from 'node:diagnostics_channel'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../../../src/index.js'
import { DEGRADED_CHANNEL, type DegradedEvent } from '../../../src/observe/channels.js'
import { type RedisLogEvent, redisStore } from '../../../src/stores/redis/index.js'
import { waitFor } from '../../support/processes.js'
import { type RedisServer, redisAvailable, startRedis } from '../../support/redis.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!redisAvailable())('Redis subscriptions, stalls and degraded answers', () => {
  let server: RedisServer
  const cleanup: (() => Promise<void>)[] = []
  beforeAll(async () => {
    server = await startRedis({
      // An ACL user with every command and key but no pub/sub channel (`&*` not granted).
      args: ['--user', 'nochan', 'on', '>pw', '~*', 'resetchannels', '+@all'],
    })
  })
  afterEach(async () => {
    for (const run of cleanup.splice(0)) await run()
    server.resume()
  })
  afterAll(async () => {
    await server?.stop()
  })

  const clients = (user: string) =>
    server
      .cli('CLIENT', 'LIST')
      .split('\n')
      .filter((line) => line.includes(` user=${user} `)).length

  it('a subscription refused by ACL retries on one connection: the count stays bounded', async () => {
    const url = `redis://nochan:pw@127.0.0.1:${server.port}`
    const store = redisStore({ url, onLog: () => {} })
    const cache = createCache({ tiers: [memoryStore(), store], prefix: 'acl' })
    await cache.set('k', 1) // data commands work; only the channel is refused
    await sleep(1000)
    const early = clients('nochan')
    await sleep(3000) // several more retries (backoff up to 1 s)
    expect(clients('nochan')).toBe(early)
    expect(early).toBeLessThanOrEqual(2) // commands + pub/sub, whatever the number of retries
    expect(store.stats().subscriptions).toEqual({ live: 0, pending: 1 })
    const started = performance.now()
    await cache.close()
    expect(performance.now() - started).toBeLessThan(2000)
    await waitFor(() => clients('nochan') === 0, 2000)
  }, 20_000)

  it('ioredis with enableOfflineQueue: false gets a working bus (L1 invalidated across instances)', async () => {
    const make = () => {
      const client = new Redis({ host: server.host, port: server.port, enableOfflineQueue: false })
      client.on('error', () => {})
      const store = redisStore({ client })
      const cache = createCache({ tiers: [memoryStore(), store], prefix: 'io' })
      cleanup.push(async () => {
        await cache.close()
        client.disconnect()
      })
      return { store, cache }
    }
    const a = make()
    const b = make()
    await waitFor(
      () => a.store.stats().subscriptions.live === 1 && b.store.stats().subscriptions.live === 1,
      5000,
    )
    await a.cache.set('k', 'one')
    await sleep(200) // a's own invalidation reaches b first, so it cannot race b's L1 fill
    expect(await b.cache.get('k')).toBe('one') // now in b's L1
    server.cli('DEL', 'io:k') // behind the caches' back: no invalidation
    expect(await b.cache.get('k')).toBe('one') // b trusts its L1: its bus is live
    await a.cache.set('k', 'two')
    await waitFor(async () => (await b.cache.get('k')) === 'two', 1000)
    // One duplicate per store for pub/sub, not one per retry.
    await sleep(1500)
    expect(Number(server.cli('INFO', 'clients').match(/connected_clients:(\d+)/)?.[1])).toBeLessThanOrEqual(5)
  })

  it('a stall during deletePattern: it fails typed, and no UNLINK batch is left unobserved', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const store = redisStore({ url: server.url, timeout: 100, scanCount: 20, onLog: () => {} })
    const cache = createCache({ store, prefix: 'stall' })
    const writer = createCache({ store: redisStore({ url: server.url, timeout: 5000 }), prefix: 'stall' })
    cleanup.push(
      () => cache.close(),
      () => writer.close(),
    )
    try {
      for (let round = 0; round < 3; round++) {
        await writer.setMany(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])))
        await store.ready()
        const running = cache.deletePattern('*').then(
          () => undefined,
          (error: unknown) => error,
        )
        await sleep(2 + round * 3)
        server.pause()
        const error = await running
        server.resume()
        if (error !== undefined) expect(error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
        await sleep(300) // the batches that were in flight have long timed out
        // Back to normal before the next round: a call gets through and closes the circuit.
        await waitFor(
          async () =>
            (await cache.has('x').then(
              () => true,
              () => false,
            )) && store.state === 'ready',
          5000,
        )
      }
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  }, 30_000)

  it('every degraded answer is counted, published on cachekit:degraded and logged once per burst', async () => {
    const events: DegradedEvent[] = []
    const listen = (event: unknown) => events.push(event as DegradedEvent)
    diagnostics.subscribe(DEGRADED_CHANNEL, listen)
    const logs: RedisLogEvent[] = []
    try {
      const store = redisStore({
        url: server.url,
        timeout: 100,
        onError: 'ignore',
        breaker: { threshold: 2, coolDownMs: 5000 },
        onLog: (event) => logs.push(event),
      })
      const cache = createCache({ store, prefix: 'degraded' })
      cleanup.push(() => cache.close())
      await cache.set('k', 1) // made while connecting: a startup wait
      expect(events.some((e) => e.kind === 'startup-wait' && e.source === 'redis')).toBe(true)
      server.pause()
      for (let i = 0; i < 6; i++) expect(await cache.get('k')).toBeUndefined()
      server.resume()
      const kinds = events.map((e) => e.kind)
      // Each of the 6 answers is one event: timeouts first, then refusals by the open circuit.
      expect(kinds.filter((k) => k === 'ignored-error' || k === 'circuit-open')).toHaveLength(6)
      expect(kinds.filter((k) => k === 'ignored-error')).toHaveLength(2)
      expect(kinds).toContain('circuit-open')
      expect(events.find((e) => e.kind === 'ignored-error')).toMatchObject({ operation: 'get' })
      const stats = store.stats()
      expect(stats.degraded).toBe(events.length)
      expect(stats.ignoredErrors).toBe(6)
      expect(stats.startupWaits).toBeGreaterThan(0)
      expect(logs.filter((e) => e.level === 'warn')).toHaveLength(1)
    } finally {
      diagnostics.unsubscribe(DEGRADED_CHANNEL, listen)
    }
  })
})
