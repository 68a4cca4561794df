import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/stores/redis/index.js'
import { closing } from '../../support/caches.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Caches on separate stores (separate connections) stand for separate processes. */
describe.skipIf(!redisAvailable())('getOrSet single flight across processes (leases)', () => {
  const server = useRedisServer()
  const keep = closing('all')
  const instance = (options: { lease?: false; onError?: 'ignore' } = {}) => {
    const cache = createCache({
      store: redisStore({
        url: server.url,
        timeout: 300,
        onLog: () => {},
        ...(options.onError ? { onError: options.onError } : {}),
      }),
      prefix: 'lease',
      ...(options.lease === false ? { getOrSet: { lease: false } } : {}),
    })
    keep(cache)
    return cache
  }

  it('one instance computes; the others wait for its word and read its value', async () => {
    const instances = [instance(), instance(), instance()]
    let calls = 0
    const factory = async () => {
      calls++
      await sleep(100)
      return { computedBy: calls }
    }
    const started = Date.now()
    const results = await Promise.all(
      instances.flatMap((cache) => Array.from({ length: 50 }, () => cache.getOrSet('k1', factory))),
    )
    expect(calls).toBe(1)
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1)
    // Waiters woke on the release message, not after the 10 s lease TTL.
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('without leases each instance computes once', async () => {
    const instances = [instance({ lease: false }), instance({ lease: false })]
    let calls = 0
    await Promise.all(
      instances.map((cache) =>
        cache.getOrSet('k2', async () => {
          calls++
          await sleep(50)
          return 1
        }),
      ),
    )
    expect(calls).toBe(2)
  })

  it('a holder whose factory fails lets a waiter compute instead', async () => {
    const [a, b] = [instance(), instance()]
    let attempts = 0
    const flaky = async () => {
      attempts++
      await sleep(50)
      if (attempts === 1) throw new Error('first try fails')
      return 'second try'
    }
    // Whichever instance takes the lease first fails; the other, woken by the release, computes.
    const outcomes = await Promise.allSettled([a.getOrSet('k3', flaky), b.getOrSet('k3', flaky)])
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(outcomes.find((o) => o.status === 'fulfilled')).toEqual({
      status: 'fulfilled',
      value: 'second try',
    })
    expect(attempts).toBe(2)
  })

  it('a waiter whose release message is lost re-checks on a short back-off, not after the lease TTL', async () => {
    const [a, b] = [instance(), instance()]
    // A holds the lease by hand, then stores the value and drops the lease without a message.
    const lease = `__cachekit:lease:${a.makeKey('lost')}`
    server.cli('SET', lease, 'someone', 'PX', '10000')
    const started = Date.now()
    const waiting = b.getOrSet('lost', () => 'computed by b')
    await sleep(300)
    await a.set('lost', 'stored by a')
    server.cli('DEL', lease)
    expect(await waiting).toBe('stored by a')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('a lease lives at most hardTimeout: a hung holder stalls the others that long, then they compute', async () => {
    const [a, b] = [instance(), instance()]
    const hung = a
      .getOrSet('hung', () => new Promise<string>(() => {}), { hardTimeout: 500 })
      .then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      )
    await sleep(100)
    const started = Date.now()
    expect(await b.getOrSet('hung', () => 'computed by b', { hardTimeout: 500 })).toBe('computed by b')
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(await hung).toBe('E_FACTORY_TIMEOUT')
    // The hung instance's later calls do not wait on its own hung flight.
    expect(await a.getOrSet('hung', () => 'computed by a')).toBe('computed by b')
  })

  it('with Redis down, getOrSet still answers from the factory in each process', async () => {
    const cache = instance({ onError: 'ignore' })
    await server.kill()
    try {
      expect(await cache.getOrSet('k4', () => 'computed locally')).toBe('computed locally')
    } finally {
      await server.restart()
    }
  })
})
