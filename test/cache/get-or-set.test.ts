import { describe, expect, it } from 'vitest'
import { createCache, FactoryTimeoutError, memoryStore } from '../../src/index.js'
import { bytesMapStoreWithTtl } from '../support/bytes-store.js'
import { closing } from '../support/caches.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A clock the test moves by hand; shared by the store and the cache. */
function manualClock(start = 1_700_000_000_000) {
  let now = start
  return { now: () => now, advance: (ms: number) => void (now += ms) }
}

const keep = closing()
function make(clock = manualClock(), store = memoryStore({ clock })) {
  return { cache: keep(createCache({ store, prefix: 'gos', clock })), clock }
}

describe.each([
  ['memory', () => make()],
  [
    'bytes store',
    () => {
      const clock = manualClock(Date.now())
      return make(clock, bytesMapStoreWithTtl() as never)
    },
  ],
])('getOrSet on %s', (_name, setup) => {
  it('returns the cached value without calling the factory', async () => {
    const { cache } = setup()
    await cache.set('k', 'cached')
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('cached')
  })

  it('shares one factory call among concurrent callers of a key', async () => {
    const { cache } = setup()
    let calls = 0
    const factory = async () => {
      calls++
      await sleep(10)
      return calls
    }
    const results = await Promise.all([
      ...Array.from({ length: 1000 }, () => cache.getOrSet('a', factory)),
      ...Array.from({ length: 10 }, () => cache.getOrSet('b', factory)),
    ])
    expect(calls).toBe(2)
    expect(new Set(results.slice(0, 1000)).size).toBe(1)
    expect(cache.stats()).toMatchObject({ factoryCalls: 2, coalesced: 1008 })
  })

  it('delivers a factory error to every waiting caller and caches nothing', async () => {
    const { cache } = setup()
    let calls = 0
    const failing = async () => {
      calls++
      await sleep(5)
      throw new Error('database down')
    }
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => cache.getOrSet('k', failing)))
    expect(calls).toBe(1)
    for (const result of results)
      expect(result).toMatchObject({ status: 'rejected', reason: { message: 'database down' } })
    expect(await cache.has('k')).toBe(false)
    expect(await cache.getOrSet('k', () => 'recovered')).toBe('recovered')
    expect(cache.stats().factoryErrors).toBe(1)
  })

  it('a synchronous factory throw is a rejection too', async () => {
    const { cache } = setup()
    await expect(
      cache.getOrSet('k', () => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
  })

  it('lets the factory set the TTL and tags from what it loaded', async () => {
    const { cache } = setup()
    await cache.getOrSet(
      'k',
      (ctx) => {
        ctx.setTtl('2h')
        ctx.setTags(['loaded'])
        return { expiresIn: '2h' }
      },
      { ttl: '1m' },
    )
    expect(await cache.ttl('k')).toBeGreaterThan(3_600_000)
    const ttlZero = await cache.getOrSet('z', (ctx) => {
      ctx.setTtl(0)
      return 'not stored'
    })
    expect(ttlZero).toBe('not stored')
    expect(await cache.has('z')).toBe(false)
  })

  it('rejects a missing factory and bad options with typed errors', async () => {
    const { cache } = setup()
    await expect(cache.getOrSet('k', undefined as never)).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    // @ts-expect-error not a duration
    await expect(cache.getOrSet('k', () => 1, { grace: 'a while' })).rejects.toMatchObject({
      code: 'E_INVALID_TTL',
    })
    await expect(cache.getOrSet('', () => 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
  })

  it('checks a frozen options object once it is found valid, and a bad one on every call', async () => {
    const { cache } = setup()
    const good = Object.freeze({ ttl: 60_000 })
    expect(await cache.getOrSet('k', () => 1, good)).toBe(1)
    expect(await cache.getOrSet('k', () => 2, good)).toBe(1)
    const bad = Object.freeze({ ttl: 'a while' })
    for (let i = 0; i < 2; i++) {
      // @ts-expect-error not a duration
      await expect(cache.getOrSet('j', () => 1, bad)).rejects.toMatchObject({ code: 'E_INVALID_TTL' })
    }
  })

  it('refuses a factory value it cannot store, and tells the caller', async () => {
    const { cache } = setup()
    await expect(cache.getOrSet('k', () => ({ fn: () => 1 }))).rejects.toMatchObject({
      code: 'E_VALUE_NOT_ENCODABLE',
    })
  })
})

describe('grace and timeouts', () => {
  it('serves the stale value at once while one background refresh runs', async () => {
    const { cache, clock } = make()
    let version = 0
    const factory = async () => {
      await sleep(20)
      return ++version
    }
    expect(await cache.getOrSet('k', factory, { ttl: 1000, grace: '1h' })).toBe(1)
    clock.advance(1500)
    expect(await cache.get('k')).toBeUndefined()
    const stale = await Promise.all(
      Array.from({ length: 50 }, () => cache.getOrSet('k', factory, { ttl: 1000, grace: '1h' })),
    )
    expect(stale.every((v) => v === 1)).toBe(true)
    await sleep(40)
    expect(version).toBe(2)
    expect(await cache.getOrSet('k', factory, { ttl: 1000, grace: '1h' })).toBe(2)
    expect(cache.stats().staleServed).toBe(50)
  })

  it('serves the stale value when the refresh fails, and backs off before trying again', async () => {
    const { cache, clock } = make()
    let calls = 0
    await cache.getOrSet('k', () => 'good', { ttl: 1000, grace: '1h' })
    clock.advance(2000)
    const failing = async () => {
      calls++
      throw new Error('upstream down')
    }
    const options = { ttl: 1000, grace: '1h', timeout: 50, graceBackoff: '10s' } as const
    expect(await cache.getOrSet('k', failing, options)).toBe('good')
    expect(await cache.getOrSet('k', failing, options)).toBe('good')
    expect(calls).toBe(1)
    clock.advance(11_000)
    expect(await cache.getOrSet('k', failing, options)).toBe('good')
    expect(calls).toBe(2)
  })

  it('after the grace period the stale value is gone', async () => {
    const { cache, clock } = make()
    await cache.getOrSet('k', () => 'old', { ttl: 1000, grace: 5000 })
    clock.advance(7000)
    expect(await cache.getOrSet('k', () => 'new', { ttl: 1000, grace: 5000 })).toBe('new')
  })

  it('soft timeout: a slow factory yields the stale value and still refreshes in the background', async () => {
    const { cache, clock } = make()
    await cache.getOrSet('k', () => 'old', { ttl: 1000, grace: '1h' })
    clock.advance(2000)
    const slow = async () => {
      await sleep(60)
      return 'new'
    }
    const started = Date.now()
    expect(await cache.getOrSet('k', slow, { ttl: 1000, grace: '1h', timeout: 10 })).toBe('old')
    expect(Date.now() - started).toBeLessThan(50)
    await sleep(80)
    expect(await cache.get('k')).toBe('new')
  })

  it('soft timeout: a fast factory answers with the fresh value', async () => {
    const { cache, clock } = make()
    await cache.getOrSet('k', () => 'old', { ttl: 1000, grace: '1h' })
    clock.advance(2000)
    expect(await cache.getOrSet('k', async () => 'new', { ttl: 1000, grace: '1h', timeout: 100 })).toBe('new')
  })

  it('hard timeout: rejects with FactoryTimeoutError, and the value is stored when it comes', async () => {
    const { cache } = make()
    const slow = async () => {
      await sleep(60)
      return 'late'
    }
    await expect(cache.getOrSet('k', slow, { hardTimeout: 10 })).rejects.toBeInstanceOf(FactoryTimeoutError)
    await sleep(80)
    expect(await cache.get('k')).toBe('late')
  })

  it('grace entries keep the stale value readable by ctx.stale', async () => {
    const { cache, clock } = make()
    await cache.getOrSet('k', () => ({ rev: 1 }), { ttl: 1000, grace: '1h' })
    clock.advance(2000)
    let seen: unknown
    await cache.getOrSet(
      'k',
      (ctx) => {
        seen = ctx.stale
        return { rev: 2 }
      },
      { ttl: 1000, grace: '1h', timeout: 100 },
    )
    expect(seen).toEqual({ rev: 1 })
  })

  it('defaults from createCache apply to every call', async () => {
    const clock = manualClock()
    const cache = createCache({ store: memoryStore({ clock }), clock, getOrSet: { grace: '1h' } })
    keep(cache)
    await cache.getOrSet('k', () => 'old', { ttl: 1000 })
    clock.advance(5000)
    expect(await cache.getOrSet('k', async () => 'new', { ttl: 1000 })).toBe('old')
  })
})

describe('hard timeout, leases and close', () => {
  it('a flight past its hard timeout is given up: later calls start a new one and resolve', async () => {
    const { cache } = make()
    const hung = cache.getOrSet('k', () => new Promise<string>(() => {}), { hardTimeout: 50 })
    await expect(hung).rejects.toBeInstanceOf(FactoryTimeoutError)
    expect(await cache.getOrSet('k', () => 'second')).toBe('second')
  })

  it('a caller that joins a flight keeps its own hard timeout', async () => {
    const { cache } = make()
    const first = cache.getOrSet('k', () => sleep(300).then(() => 'late'), { hardTimeout: 5000 })
    await expect(cache.getOrSet('k', () => 'unused', { hardTimeout: 30 })).rejects.toBeInstanceOf(
      FactoryTimeoutError,
    )
    expect(await first).toBe('late')
  })

  it('refuses timeouts of 2^31 ms or more, and non-finite ones, with InvalidOptionError', async () => {
    const { cache } = make()
    for (const options of [
      { hardTimeout: 2 ** 31 },
      { timeout: Number.POSITIVE_INFINITY },
      { grace: 2 ** 31 },
      { graceBackoff: '30d' },
      { lease: { ttl: 2 ** 31 } },
    ] as const) {
      await expect(cache.getOrSet('k', () => 1, options)).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    }
    expect(() => createCache({ store: memoryStore(), getOrSet: { hardTimeout: 2 ** 31 } })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
    expect(await cache.getOrSet('k', () => 1, { hardTimeout: 2 ** 31 - 1, grace: '24d' })).toBe(1)
  })

  it('close() first lets a background refresh write its value, then releases the store', async () => {
    const store = memoryStore()
    const a = createCache({ store, prefix: 'p' })
    const b = createCache({ store, prefix: 'p' })
    keep(b)
    await a.getOrSet('k', () => 'old', { ttl: 1, grace: '1h' })
    await sleep(5)
    const refresh = async () => {
      await sleep(150)
      return 'new'
    }
    expect(await a.getOrSet('k', refresh, { ttl: '1h', grace: '1h' })).toBe('old')
    await a.close()
    expect(await b.get('k')).toBe('new')
  })

  it('close() settles within 2 s with a hung factory, whose callers get CacheClosedError', async () => {
    const { cache } = make()
    const hung = cache
      .getOrSet('k', () => new Promise<string>(() => {}))
      .then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      )
    await sleep(10)
    const started = Date.now()
    await cache.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await hung).toBe('E_CACHE_CLOSED')
  })
})

describe('getOrSetNow (the response cache hot path)', () => {
  it('answers a fresh memory hit at once, counted and published as getOrSet counts it', async () => {
    const { cache } = make()
    await cache.set('k', { n: 1 })
    const before = cache.stats()
    const got = cache.getOrSetNow('k', () => ({ n: 2 }))
    expect(got).not.toBeInstanceOf(Promise)
    expect((got as { value: unknown }).value).toEqual({ n: 1 })
    const after = cache.stats()
    expect(after.hits - before.hits).toBe(1)
    expect(after.l1Hits - before.l1Hits).toBe(1)
    expect(after.misses).toBe(before.misses)
    await cache.getOrSet('k', () => ({ n: 3 }))
    expect(cache.stats().l1Hits - after.l1Hits).toBe(1)
  })

  it('goes through a promise on a miss, and rejects (never throws) on bad input', async () => {
    const { cache } = make()
    const miss = cache.getOrSetNow('m', () => 7)
    expect(miss).toBeInstanceOf(Promise)
    expect(await miss).toBe(7)
    expect(cache.stats().misses).toBe(1)
    expect((cache.getOrSetNow('m', () => 8) as { value: unknown }).value).toBe(7)
    const bad = cache.getOrSetNow('', () => 1)
    expect(bad).toBeInstanceOf(Promise)
    await expect(bad).rejects.toThrow()
    const noFactory = cache.getOrSetNow('m', undefined as never)
    await expect(noFactory).rejects.toThrow(/factory/)
  })
})
