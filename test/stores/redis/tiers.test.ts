import { type ChildProcess, fork } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { closing } from '../../support/caches.js'
import { waitFor } from '../../support/processes.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(!redisAvailable())('tiers over Redis with the pub/sub bus', () => {
  const server = useRedisServer()
  const keep = closing('all')
  const tiered = (prefix = 'tier') => {
    const cache = createCache({
      tiers: [memoryStore(), redisStore({ url: server.url, timeout: 500 })],
      prefix,
    })
    keep(cache)
    return cache
  }

  it('a write on one instance reaches the L1 of the others', async () => {
    const [a, b, c] = [tiered(), tiered(), tiered()]
    await a.set('k', 'one')
    await waitFor(async () => (await b.get('k')) === 'one' && (await c.get('k')) === 'one', 3000)
    await sleep(100) // subscriptions up, L1s filled
    await a.set('k', 'two')
    await waitFor(async () => (await b.get('k')) === 'two' && (await c.get('k')) === 'two', 1000)
    await b.deleteByTag('none')
    await c.deletePattern('k*')
    await waitFor(async () => (await a.get('k')) === undefined && (await b.get('k')) === undefined, 1000)
  })

  it('after losing Redis, no instance serves an L1 copy Redis no longer has', async () => {
    const [a, b] = [tiered('outage'), tiered('outage')]
    await a.set('k', 'before the crash')
    await waitFor(async () => (await b.get('k')) === 'before the crash', 3000)
    await server.kill()
    await sleep(200)
    await server.restart() // an empty Redis: the entry is gone
    // Until each client reconnects, reads fail (E_STORE_UNAVAILABLE); then they must miss, not
    // answer from L1. waitFor retries through the failures.
    await waitFor(async () => (await b.get('k')) === undefined && (await a.get('k')) === undefined, 5000)
  })

  it('a write and its invalidation share one round trip, and whoever hears it reads the new value', async () => {
    const store = keep(redisStore({ url: server.url, timeout: 500 }))
    const other = keep(redisStore({ url: server.url, timeout: 500 }))
    const writer = keep(createCache({ tiers: [memoryStore(), store], prefix: 'order' }))
    await Promise.all([store.ready(), other.ready()])
    // One connection to one server: a PUBLISH sent after a SET runs after it.
    expect(store.invalidationBus().inOrderWith?.(store)).toBe(true)
    expect(store.invalidationBus().inOrderWith?.(other)).toBe(false)
    // Another instance reads L2 the moment it hears each invalidation: it must never get the value
    // being replaced. Large values make the server take longest over each SET.
    const reader = keep(createCache({ store: other, prefix: 'order' }))
    const key = writer.makeKey('k')
    const big = 'x'.repeat(256 * 1024)
    let heard = 0
    const reads: Promise<number>[] = []
    const listener = keep(redisStore({ url: server.url, timeout: 500 }))
    await listener.channel('cachekit:invalidate').subscribe((message) => {
      if (!(JSON.parse(message) as { keys?: string[] }).keys?.includes(key)) return
      const expected = ++heard
      reads.push(reader.get<{ rev: number }>('k').then((value) => (value?.rev ?? 0) - expected))
    })
    await waitFor(() => listener.stats().subscriptions.live === 1, 3000)
    for (let rev = 1; rev <= 30; rev++) await writer.set('k', { rev, big })
    await waitFor(() => heard === 30, 3000)
    // The value written, or a later one when the writer has moved on meanwhile: never an older one.
    expect((await Promise.all(reads)).filter((ahead) => ahead < 0)).toEqual([])
  })

  describe('across processes', () => {
    const workers: ChildProcess[] = []
    let next = 0
    const pending = new Map<number, (result: unknown) => void>()
    const ask = (worker: ChildProcess, request: object) =>
      new Promise<unknown>((resolve) => {
        const id = next++
        pending.set(id, resolve)
        worker.send({ ...request, id })
      })

    beforeAll(async () => {
      for (let i = 0; i < 4; i++) {
        const worker = fork(
          new URL('../../support/fixtures/tier-worker.ts', import.meta.url).pathname,
          [server.url],
          {
            execArgv: ['--import', 'tsx'],
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          },
        )
        await new Promise<void>((resolve) =>
          worker.on('message', (message: { ready?: true; id?: number; result?: unknown }) => {
            if (message.ready) resolve()
            else if (message.id !== undefined) pending.get(message.id)?.(message.result)
          }),
        )
        workers.push(worker)
      }
    }, 60_000)
    afterAll(async () => {
      await Promise.all(workers.map((worker) => ask(worker, { op: 'close' }).catch(() => {})))
      for (const worker of workers) worker.kill()
    })

    it('4 processes x 500 concurrent getOrSet on a cold key call the factory once', async () => {
      const answers = await Promise.all(
        workers.map((worker) => ask(worker, { op: 'getOrSet', key: 'cold', callers: 500, factoryMs: 150 })),
      )
      expect(answers).toEqual([1, 1, 1, 1]) // every caller in each process got one and the same value
      const calls = await Promise.all(workers.map((worker) => ask(worker, { op: 'factoryCalls' })))
      expect((calls as number[]).reduce((a, b) => a + b, 0)).toBe(1)
      const values = await Promise.all(workers.map((worker) => ask(worker, { op: 'get', key: 'cold' })))
      expect(new Set(values).size).toBe(1)
    })

    it('invalidation reaches the L1 of every process', async () => {
      const [first, ...others] = workers as [ChildProcess, ...ChildProcess[]]
      await ask(first, { op: 'set', key: 'shared', value: { rev: 1 } })
      for (const worker of others) {
        await waitFor(
          async () => ((await ask(worker, { op: 'get', key: 'shared' })) as { rev: number })?.rev === 1,
          3000,
        )
      }
      await ask(first, { op: 'set', key: 'shared', value: { rev: 2 } })
      for (const worker of others) {
        await waitFor(
          async () => ((await ask(worker, { op: 'get', key: 'shared' })) as { rev: number })?.rev === 2,
          1000,
        )
      }
    })
  })
})
