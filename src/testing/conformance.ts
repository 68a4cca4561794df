import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Cache } from '../cache/index.js'
import { createCache } from '../cache/index.js'
import { type Duration, wholeMs } from '../internal/index.js'
import type { Store } from '../stores/index.js'
import { entryTests } from './conformance-entries.js'
import { groupTests } from './conformance-groups.js'
import { collect, type SuiteContext, sleep, type TestApi } from './suite.js'

/** Options of the store conformance suite: how to make the store under test and what it can do. */
export interface ConformanceOptions {
  /** Shown in the suite's title. */
  readonly name: string
  /** A new store for each test; the suite closes it (through the caches built on it). */
  createStore(): Store | Promise<Store>
  /** A TTL short enough to wait out in a test. Default `'60ms'`. */
  readonly shortTtl?: Duration
  /**
   * Run the suite on a tiered cache instead: each cache gets this store as L1 (a new one per
   * cache, e.g. `() => memoryStore()`) over the store under test as L2.
   */
  readonly l1?: () => Store
}

/**
 * Registers the store contract's tests with your runner. Every test goes through a cache built on
 * the store, with a random prefix, so it exercises what users see, and two caches with different
 * prefixes share one store to prove neither can touch the other's keys.
 *
 * ```ts
 * import { describe, it, beforeEach, afterEach } from 'vitest'
 * import { runStoreConformance } from 'cachekit/testing'
 * runStoreConformance({ describe, it, beforeEach, afterEach }, { name: 'my store', createStore: () => myStore() })
 * ```
 */
export function runStoreConformance(api: TestApi, options: ConformanceOptions): void {
  const { describe, it, beforeEach, afterEach } = api
  const shortTtl = wholeMs(options.shortTtl, 60, 'runStoreConformance shortTtl', { min: 1 })
  let store: Store
  let cache: Cache
  let other: Cache
  const make = (prefix: string) =>
    options.l1 ? createCache({ tiers: [options.l1(), store], prefix }) : createCache({ store, prefix })
  const suite: SuiteContext = {
    describe,
    it,
    get cache() {
      return cache
    },
    get other() {
      return other
    },
    shortTtl,
    capabilities: () => cache.store.capabilities,
  }

  describe(`store conformance: ${options.name}${options.l1 ? ' (as L2 of tiers)' : ''}`, () => {
    beforeEach(async () => {
      store = await options.createStore()
      const run = randomBytes(4).toString('hex')
      cache = make(`ckt-${run}`)
      other = make(`ckt-${run}-other`)
    })

    afterEach(async () => {
      await cache.clear().catch(() => {})
      await other.clear().catch(() => {})
      await other.close()
      await cache.close()
    })

    entryTests(suite)
    groupTests(suite)

    describe('getOrSet', () => {
      it('calls the factory once for many concurrent callers, then serves the value', async () => {
        let calls = 0
        const factory = async () => {
          calls++
          await sleep(20)
          return { loaded: new Date(1) }
        }
        const results = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet('cold', factory)))
        assert.equal(calls, 1)
        for (const result of results) assert.deepStrictEqual(result, { loaded: new Date(1) })
        assert.deepStrictEqual(await cache.getOrSet('cold', factory), { loaded: new Date(1) })
        assert.equal(calls, 1)
      })
    })

    describe('bad input', () => {
      it('rejects bad keys and TTLs with typed errors and writes nothing', async () => {
        await assert.rejects(cache.set('', 1), { code: 'E_INVALID_KEY' })
        await assert.rejects(cache.set('x'.repeat(5000), 1), { code: 'E_INVALID_KEY' })
        await assert.rejects(cache.get(42 as unknown as string), { code: 'E_INVALID_KEY' })
        await assert.rejects(cache.set('k', 1, { ttl: 'soon' as never }), { code: 'E_INVALID_TTL' })
        await assert.rejects(cache.set('k', 1, { ttl: -5 }), { code: 'E_INVALID_TTL' })
        await assert.rejects(cache.set('k', 1, { ttl: Number.NaN }), { code: 'E_INVALID_TTL' })
        assert.deepStrictEqual(await collect(cache.keys()), [])
      })
    })

    describe('lifecycle', () => {
      it('close is idempotent and leaves other caches of the store working', async () => {
        const third = make(cache.makeKey('third'))
        await third.set('k', 1)
        await third.close()
        await third.close()
        await assert.rejects(third.get('k'), { code: 'E_CACHE_CLOSED' })
        await cache.set('still', 'works')
        assert.equal(await cache.get('still'), 'works')
      })
    })
  })
}
