import { afterEach, describe, expect, it } from 'vitest'
import {
  type Cache,
  createCache,
  type InvalidationBus,
  type MemoryStore,
  memoryBus,
  memoryStore,
  type Store,
} from '../../src/index.js'
import { ROUND_TRIP_VALUES } from '../../src/testing/index.js'
import { bytesMapStoreWithTtl } from '../support/bytes-store.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))
const caches: Cache[] = []
afterEach(async () => {
  for (const cache of caches.splice(0)) await cache.close()
})

/** `count` instances of an app, each with its own L1, sharing one L2 and one bus. */
function instances(count: number, l2: Store = memoryStore(), options: { l1Ttl?: number } = {}) {
  const bus = memoryBus()
  const l1s: MemoryStore[] = []
  const list = Array.from({ length: count }, () => {
    const l1 = memoryStore()
    l1s.push(l1)
    const cache = createCache({ tiers: [l1, l2], bus, prefix: 'app', ...options })
    caches.push(cache)
    return cache
  })
  return { caches: list, l1s, bus, l2 }
}

/** The L2 stores every tier test runs over: one keeping values, one keeping only bytes. */
const L2S: [string, () => Store][] = [
  ['memory L2', () => memoryStore() as Store],
  ['bytes L2 (codec)', () => bytesMapStoreWithTtl() as Store],
]

describe.each(L2S)('tiers over %s', (_name, makeL2) => {
  it('stats split reads by the tier that answered them', async () => {
    const {
      caches: [a, b],
    } = instances(2, makeL2())
    await a!.set('k', { v: 1 }) // an object: a bare counter is never copied into L1
    expect(await b!.get('k')).toEqual({ v: 1 }) // from L2, refills b's L1
    expect(await b!.get('k')).toEqual({ v: 1 }) // from b's L1
    expect(await b!.get('absent')).toBeUndefined()
    const tiers = (b!.stats().store as { tiers?: unknown }).tiers
    expect(tiers).toEqual({ l1Hits: 1, l2Hits: 1, misses: 1 })
  })

  it('an L2 hit refills L1 with the remaining TTL', async () => {
    const {
      caches: [a, b],
      l1s,
    } = instances(2, makeL2())
    await a!.set('k', { v: 1 }, { ttl: '10m' })
    expect(await l1s[1]!.get('app:k')).toBeUndefined()
    expect(await b!.get('k')).toEqual({ v: 1 })
    const left = l1s[1]!.ttl('app:k') as number
    expect(left).toBeGreaterThan(590_000)
    expect(left).toBeLessThanOrEqual(600_000)
  })

  it('values come back identical from either tier', async () => {
    const {
      caches: [a, b],
    } = instances(2, makeL2())
    for (const [name, value] of Object.entries(ROUND_TRIP_VALUES)) {
      await a!.set(name, value)
      expect(await a!.get(name), `${name} from L1`).toStrictEqual(value)
      expect(await b!.get(name), `${name} from L2`).toStrictEqual(value)
      expect(await b!.get(name), `${name} from refilled L1`).toStrictEqual(value)
    }
  })

  it('a write on one instance reaches every other L1', async () => {
    const { caches: list } = instances(3, makeL2())
    const [a, b, c] = list as [Cache, Cache, Cache]
    await a.set('k', 'one')
    expect(await b.get('k')).toBe('one')
    expect(await c.get('k')).toBe('one')
    await b.set('k', 'two')
    await tick()
    expect(await a.get('k')).toBe('two')
    expect(await c.get('k')).toBe('two')
    await c.delete('k')
    await tick()
    expect(await a.get('k')).toBeUndefined()
    expect(await b.get('k')).toBeUndefined()
  })

  it('incr, touch, setMany, deleteMany, deletePattern and clear invalidate other L1s', async () => {
    const {
      caches: [a, b],
    } = instances(2, makeL2())
    await a!.setMany({ 'user:1': 1, 'user:2': 2, other: 3 })
    expect([...(await b!.getMany(['user:1', 'user:2', 'other'])).values()]).toEqual([1, 2, 3])
    await a!.incr('user:1', 10)
    await tick()
    expect(await b!.get('user:1')).toBe(11)
    await a!.deletePattern('user:*')
    await tick()
    expect(await b!.get('user:2')).toBeUndefined()
    expect(await b!.get('other')).toBe(3)
    await a!.clear()
    await tick()
    expect(await b!.get('other')).toBeUndefined()
  })

  it('L1 copies never outlive l1Ttl', async () => {
    const {
      caches: [a],
      l1s,
    } = instances(1, makeL2(), { l1Ttl: 1000 })
    await a!.set('k', 1, { ttl: '1h' })
    expect(l1s[0]!.ttl('app:k')).toBeLessThanOrEqual(1000)
    expect(await a!.ttl('k')).toBeGreaterThan(3_500_000)
  })

  it('an instance that lost the bus reads L2, and starts L1 afresh when the bus is back', async () => {
    const {
      caches: [a, b],
      bus,
      l1s,
    } = instances(2, makeL2())
    await a!.set('k', 'before')
    expect(await b!.get('k')).toBe('before')
    bus.disconnect()
    await a!.set('k', 'during')
    expect(await b!.get('k')).toBe('during')
    bus.reconnect()
    await tick()
    expect(l1s[1]!.stats().entries).toBe(0)
    expect(await b!.get('k')).toBe('during')
  })

  it('getOrSet with grace works across tiers', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const bus = memoryBus()
    const l2 = makeL2()
    const make = () => {
      const cache = createCache({ tiers: [memoryStore({ clock }), l2], bus, clock })
      caches.push(cache)
      return cache
    }
    const a = make()
    const b = make()
    expect(await a.getOrSet('k', () => 'old', { ttl: 1000, grace: '1h' })).toBe('old')
    now += 2000
    expect(await b.getOrSet('k', async () => 'new', { ttl: 1000, grace: '1h' })).toBe('old')
    await tick()
    expect(await b.get('k')).toBe('new')
  })
})

describe('tags across tiers', () => {
  it('deleteByTag on one instance drops tagged copies in every L1, even ones filled from L2', async () => {
    const {
      caches: [a, b],
    } = instances(2, memoryStore())
    await a!.set('stats:42', { total: 1 }, { tags: ['user:42'] })
    await a!.set('stats:7', { total: 2 }, { tags: ['user:7'] })
    expect(await b!.get('stats:42')).toEqual({ total: 1 })
    expect(await b!.deleteByTag('user:42')).toBe(1)
    await tick()
    expect(await a!.get('stats:42')).toBeUndefined()
    expect(await b!.get('stats:42')).toBeUndefined()
    expect(await a!.get('stats:7')).toEqual({ total: 2 })
  })

  it('expireByTag on one instance: no instance serves the entry as fresh, getOrSet serves it as grace', async () => {
    const {
      caches: [a, b],
    } = instances(2, memoryStore())
    await a!.set('stats:42', { total: 1 }, { tags: ['user:42'] })
    expect(await b!.get('stats:42')).toEqual({ total: 1 })
    expect(await a!.expireByTag('user:42')).toBe(1)
    await tick()
    expect(await a!.get('stats:42')).toBeUndefined()
    expect(await b!.get('stats:42')).toBeUndefined()
    expect(await b!.getOrSet('stats:42', async () => ({ total: 2 }))).toEqual({ total: 1 })
    await tick()
    expect(await a!.get('stats:42')).toEqual({ total: 2 })
  })

  it('a remote deleteByTag reaches an L1 that was filled from L2', async () => {
    const {
      caches: [a, b, c],
    } = instances(3, memoryStore())
    await a!.set('k', 1, { tags: ['t'] })
    expect(await b!.get('k')).toBe(1)
    await c!.deleteByTag('t')
    await tick()
    expect(await b!.get('k')).toBeUndefined()
  })
})

describe.each(L2S)('counters across tiers over %s', (_name, makeL2) => {
  it('incr works on a tagged integer, and deleteByTag still removes it on every instance', async () => {
    const {
      caches: [a, b],
      l2,
    } = instances(2, makeL2())
    await a!.set('hits', 5, { tags: ['page'] })
    expect(await b!.get('hits')).toBe(5)
    expect(await b!.incr('hits', 2)).toBe(7)
    await tick()
    expect(await a!.get('hits')).toBe(7)
    expect(await a!.incr('hits')).toBe(8)
    if (!l2.capabilities.tags) return
    expect(await b!.deleteByTag('page')).toBe(1)
    await tick()
    expect(await a!.get('hits')).toBeUndefined()
    expect(await b!.get('hits')).toBeUndefined()
  })
})

describe('closing tiers', () => {
  it('close() settles within 2 s while the bus subscription never comes up, and cancels it', async () => {
    let signal: AbortSignal | undefined
    const deaf: InvalidationBus = {
      publish: async () => {},
      subscribe: (_listener, abort) => {
        signal = abort
        return new Promise(() => {})
      },
    }
    const cache = createCache({ tiers: [memoryStore(), memoryStore()], bus: deaf })
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    const started = Date.now()
    await cache.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(signal?.aborted).toBe(true)
  })

  it('a subscription that comes up after close() is stopped at once', async () => {
    let arrive: (unsubscribe: () => Promise<void>) => void = () => {}
    let stopped = false
    const late: InvalidationBus = {
      publish: async () => {},
      subscribe: () => new Promise((resolve) => (arrive = resolve)),
    }
    const cache = createCache({ tiers: [memoryStore(), memoryStore()], bus: late })
    await cache.close()
    arrive(async () => {
      stopped = true
    })
    await tick()
    expect(stopped).toBe(true)
  })
})

describe('tier configuration', () => {
  it('refuses ambiguous or impossible tiers', () => {
    expect(() => createCache({ store: memoryStore(), tiers: [memoryStore(), memoryStore()] })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
    expect(() => createCache({ tiers: [memoryStore()] as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
    expect(() => createCache({ tiers: [bytesMapStoreWithTtl(), memoryStore()] })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
    expect(() => createCache({} as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })

  it('closing one tiered cache leaves another on the same L2 working', async () => {
    const l2 = memoryStore()
    const a = createCache({ tiers: [memoryStore(), l2] })
    const b = createCache({ tiers: [memoryStore(), l2] })
    caches.push(b)
    await a.set('k', 1)
    await a.close()
    expect(await b.get('k')).toBe(1)
  })
})

/** A memory L2 whose writes take effect at once but are answered only when `answer()` is called. */
function answeredLater() {
  const inner = memoryStore()
  const waiting: (() => void)[] = []
  const held = new Set<PropertyKey>(['set', 'setMany', 'delete', 'deleteMany'])
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      if (!held.has(property)) return value.bind(target)
      return (...args: unknown[]) => {
        const result = value.apply(target, args)
        return new Promise((resolve) => waiting.push(() => resolve(result)))
      }
    },
  }) as Store
  return {
    store,
    unanswered: () => waiting.length,
    answer: () => {
      for (const resolve of waiting.splice(0)) resolve()
    },
  }
}

/** A bus that records what is published, vouching for the order of writes to `ordered` only. */
function recordingBus(published: unknown[], ordered: Store | undefined): InvalidationBus {
  return {
    publish: async (invalidation) => {
      published.push(invalidation.keys)
    },
    subscribe: async (listener) => {
      listener.up()
      return async () => {}
    },
    inOrderWith: (store) => store === ordered,
  }
}

describe('invalidations in the same round trip as the write', () => {
  it('a bus that vouches for the order with L2 gets each invalidation before L2 has answered', async () => {
    const l2 = answeredLater()
    const published: unknown[] = []
    const cache = createCache({ tiers: [memoryStore(), l2.store], bus: recordingBus(published, l2.store) })
    caches.push(cache)
    const writes: Promise<unknown>[] = [cache.set('k', 1), cache.setMany([['m', 2]])]
    writes.push(cache.delete('d'), cache.deleteMany(['x', 'y']))
    await tick()
    expect(l2.unanswered()).toBe(4)
    expect(published).toEqual([['k'], ['m'], ['d'], ['x', 'y']])
    let settled = false
    const all = Promise.all(writes).then(() => (settled = true))
    await tick()
    expect(settled).toBe(false) // a write resolves once L2 answered it
    l2.answer()
    await all
    expect(await cache.get('k')).toBe(1)
  })

  it('otherwise the invalidation waits for L2 to answer: no vouching, another store, or a fallback', async () => {
    for (const variant of ['none', 'other', 'fallback'] as const) {
      const l2 = answeredLater()
      const published: unknown[] = []
      const ordered = variant === 'other' ? memoryStore() : variant === 'fallback' ? l2.store : undefined
      const cache = createCache({
        tiers: [memoryStore(), l2.store],
        bus: recordingBus(published, ordered),
        ...(variant === 'fallback' ? { fallback: memoryStore() } : {}),
      })
      caches.push(cache)
      const write = cache.set('k', 1)
      await tick()
      expect(l2.unanswered(), variant).toBe(1)
      expect(published, variant).toEqual([])
      l2.answer()
      await write
      expect(published, variant).toEqual([['k']])
    }
  })
})
