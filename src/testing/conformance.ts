import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Cache } from '../cache/cache.js'
import { createCache } from '../cache/create.js'
import { type Duration, wholeMs } from '../internal/duration.js'
import type { Store } from '../stores/types.js'
import { ROUND_TRIP_VALUES } from './values.js'

/** The test functions of your runner (vitest, jest, mocha, `node:test`): only these four are used. */
export interface TestApi {
  describe(name: string, fn: () => void): void
  it(name: string, fn: () => Promise<void> | void): void
  beforeEach(fn: () => Promise<void> | void): void
  afterEach(fn: () => Promise<void> | void): void
}

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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
  /** What the cache sees of the store (with tiers, the two tiers as one). */
  const capabilities = () => cache.store.capabilities

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

    describe('values', () => {
      it('misses with undefined', async () => {
        assert.equal(await cache.get('absent'), undefined)
        assert.equal(await cache.has('absent'), false)
      })

      for (const [name, value] of Object.entries(ROUND_TRIP_VALUES)) {
        it(`round-trips ${name}`, async () => {
          await cache.set(name, value)
          assert.deepStrictEqual(await cache.get(name), value)
          assert.equal(await cache.has(name), true)
        })
      }

      it('overwrites', async () => {
        await cache.set('k', 1)
        await cache.set('k', { two: 2 })
        assert.deepStrictEqual(await cache.get('k'), { two: 2 })
      })

      it('refuses a value it cannot store, and keeps the old one', async () => {
        await cache.set('k', 'old')
        await assert.rejects(cache.set('k', { fn: () => 1 }), { code: 'E_VALUE_NOT_ENCODABLE' })
        const circular: Record<string, unknown> = {}
        circular['self'] = circular
        await assert.rejects(cache.set('k', circular), { code: 'E_VALUE_CIRCULAR' })
        assert.equal(await cache.get('k'), 'old')
      })
    })

    describe('ttl', () => {
      it('expires entries', async () => {
        const written = Date.now()
        await cache.set('short', 'v', { ttl: shortTtl })
        await cache.set('long', 'v', { ttl: '1h' })
        const early = await cache.get('short')
        // On a loaded machine the read may come after the TTL; only then may it miss.
        if (Date.now() - written < shortTtl) assert.equal(early, 'v')
        await sleep(shortTtl * 2 + 20)
        assert.equal(await cache.get('short'), undefined)
        assert.equal(await cache.has('short'), false)
        assert.equal(await cache.get('long'), 'v')
      })

      it('reports ms left, null for no expiry, undefined when missing', async () => {
        await cache.set('timed', 1, { ttl: '10m' })
        await cache.set('forever', 1, { ttl: null })
        const left = await cache.ttl('timed')
        assert.ok(typeof left === 'number' && left > 590_000 && left <= 600_000, `ttl was ${left}`)
        assert.equal(await cache.ttl('forever'), null)
        assert.equal(await cache.ttl('absent'), undefined)
      })

      it('stores nothing with a TTL of 0, and removes the old value', async () => {
        await cache.set('k', 1)
        await cache.set('k', 2, { ttl: 0 })
        assert.equal(await cache.get('k'), undefined)
      })

      it('touch gives a new TTL and says whether the key existed', async () => {
        await cache.set('k', 1, { ttl: '1h' })
        await cache.set('short', 1, { ttl: '1h' })
        assert.equal(await cache.touch('short', shortTtl), true)
        await sleep(shortTtl * 2 + 20)
        assert.equal(await cache.get('short'), undefined)
        const left = await cache.ttl('k')
        assert.ok(typeof left === 'number' && left > 3_500_000, `ttl was ${left}`)
        assert.equal(await cache.touch('k', '2h'), true)
        const longer = await cache.ttl('k')
        assert.ok(typeof longer === 'number' && longer > 7_100_000, `touched ttl was ${longer}`)
        assert.equal(await cache.touch('k', null), true)
        assert.equal(await cache.ttl('k'), null)
        assert.equal(await cache.touch('absent', '1h'), false)
      })

      it('touch moves both the stale time and the hard expiry of an entry written with grace', async () => {
        const tagged = capabilities().tags ? { tags: ['g'] } : {}
        await cache.getOrSet('g', () => 'v', { ttl: shortTtl, grace: '1h', ...tagged })
        assert.equal(await cache.touch('g', '2h'), true)
        await sleep(shortTtl * 2 + 20)
        // Fresh still: the stale time moved to 2 h from the touch.
        assert.equal(await cache.get('g'), 'v')
        const left = await cache.ttl('g')
        assert.ok(typeof left === 'number' && left > 3 * 3_590_000, `ttl after touch was ${left}`)
        if (capabilities().tags) {
          assert.equal(await cache.deleteByTag('g'), 1)
          assert.equal(await cache.get('g'), undefined)
        }
      })

      it('refuses a TTL beyond 100 years (InvalidTtlError), and writes nothing', async () => {
        const century = 3_155_760_000_000
        await assert.rejects(cache.set('k', 1, { ttl: century + 1 }), { code: 'E_INVALID_TTL' })
        await assert.rejects(cache.set('k', 1, { ttl: 1e20 }), { code: 'E_INVALID_TTL' })
        await assert.rejects(cache.incr('n', 1, { ttl: 1e20 }), { code: 'E_INVALID_TTL' })
        assert.equal(await cache.get('k'), undefined)
        assert.equal(await cache.get('n'), undefined)
        await cache.set('k', 1)
        await assert.rejects(cache.touch('k', 1e20), { code: 'E_INVALID_TTL' })
        assert.equal(await cache.ttl('k'), null)
        await cache.set('c', 1, { ttl: century })
        const left = await cache.ttl('c')
        assert.ok(typeof left === 'number' && left > century - 60_000, `ttl was ${left}`)
      })
    })

    describe('add', () => {
      it('writes only when absent', async () => {
        assert.equal(await cache.add('k', 'first'), true)
        assert.equal(await cache.add('k', 'second'), false)
        assert.equal(await cache.get('k'), 'first')
      })

      it('treats an expired entry as absent', async () => {
        await cache.set('k', 'old', { ttl: shortTtl })
        await sleep(shortTtl * 2 + 20)
        assert.equal(await cache.add('k', 'new'), true)
        assert.equal(await cache.get('k'), 'new')
      })

      it('lets exactly one of many concurrent callers win when the store is atomic', async () => {
        if (!capabilities().atomic) return
        const results = await Promise.all(Array.from({ length: 25 }, (_, i) => cache.add('race', i)))
        assert.equal(results.filter(Boolean).length, 1)
      })
    })

    describe('counters', () => {
      it('counts from 0 when missing, and works on an integer written by set', async () => {
        assert.equal(await cache.incr('n'), 1)
        assert.equal(await cache.incr('n', 5), 6)
        assert.equal(await cache.decr('n', 2), 4)
        assert.equal(await cache.get('n'), 4)
        await cache.set('m', 10)
        assert.equal(await cache.incr('m'), 11)
        assert.equal(await cache.decr('fresh'), -1)
      })

      it('creates with the TTL and keeps an existing TTL', async () => {
        await cache.incr('n', 1, { ttl: '10m' })
        const left = await cache.ttl('n')
        assert.ok(typeof left === 'number' && left > 590_000, `ttl was ${left}`)
        await cache.incr('n', 1, { ttl: '1h' })
        const after = await cache.ttl('n')
        assert.ok(typeof after === 'number' && after <= 600_000, `existing TTL changed to ${after}`)
      })

      it('is exact under concurrency when the store is atomic', async () => {
        if (!capabilities().atomic) return
        await Promise.all(Array.from({ length: 50 }, () => cache.incr('hits')))
        assert.equal(await cache.get('hits'), 50)
      })

      it('increments a tagged integer, which deleteByTag still removes', async () => {
        await cache.set('t', 5, { tags: ['counter'] })
        assert.equal(await cache.incr('t', 2), 7)
        assert.equal(await cache.get('t'), 7)
        if (!capabilities().tags) return
        assert.equal(await cache.deleteByTag('counter'), 1)
        assert.equal(await cache.get('t'), undefined)
      })

      it('refuses to increment a value that is not an integer', async () => {
        await cache.set('s', 'text')
        await assert.rejects(cache.incr('s'), { code: 'E_NOT_INTEGER' })
        assert.equal(await cache.get('s'), 'text')
      })
    })

    describe('batches', () => {
      it('getMany returns the keys found', async () => {
        await cache.setMany({ a: 1, b: { two: 2 }, c: undefined })
        const found = await cache.getMany(['a', 'b', 'c', 'absent'])
        assert.deepStrictEqual(
          [...found],
          [
            ['a', 1],
            ['b', { two: 2 }],
            ['c', undefined],
          ],
        )
      })

      it('setMany applies the TTL to every entry', async () => {
        const written = Date.now()
        await cache.setMany(
          [
            ['x', 1],
            ['y', 2],
          ],
          { ttl: shortTtl },
        )
        const early = await cache.get('y')
        if (Date.now() - written < shortTtl) assert.equal(early, 2)
        await sleep(shortTtl * 2 + 20)
        assert.equal((await cache.getMany(['x', 'y'])).size, 0)
      })

      it('deleteMany says how many existed', async () => {
        await cache.setMany({ a: 1, b: 2 })
        assert.equal(await cache.deleteMany(['a', 'b', 'absent']), 2)
        assert.equal(await cache.has('a'), false)
      })

      it('delete says whether the key existed', async () => {
        await cache.set('k', 1)
        assert.equal(await cache.delete('k'), true)
        assert.equal(await cache.delete('k'), false)
      })
    })

    describe('patterns, keys and prefixes', () => {
      it('deletePattern matches globs under the prefix only', async () => {
        await cache.setMany({ 'user:1': 1, 'user:2': 2, 'user:10': 10, 'course:1': 1, 'user:a': 'a' })
        await other.set('user:1', 'other')
        assert.equal(await cache.deletePattern('user:?'), 3)
        assert.deepStrictEqual((await collect(cache.keys())).sort(), ['course:1', 'user:10'])
        assert.equal(await cache.deletePattern('user:[12]0'), 1)
        assert.equal(await other.get('user:1'), 'other')
      })

      it('keys yields keys as the caller wrote them', async () => {
        await cache.setMany({ 'course:1': 1, 'course:2': 2, lesson: 3 })
        await other.set('course:3', 3)
        assert.deepStrictEqual((await collect(cache.keys('course:*'))).sort(), ['course:1', 'course:2'])
        assert.deepStrictEqual((await collect(cache.keys())).sort(), ['course:1', 'course:2', 'lesson'])
      })

      it('clear removes its own prefix and nothing else', async () => {
        await cache.setMany({ a: 1, b: 2 })
        await other.set('a', 'kept')
        await cache.clear()
        assert.equal(await cache.get('a'), undefined)
        assert.equal(await other.get('a'), 'kept')
      })

      it('namespaces live under the parent and clear alone', async () => {
        const users = cache.namespace('user')
        await users.set('42', 'ada')
        await cache.set('top', 1)
        assert.equal(users.makeKey('42'), `${cache.makeKey('user')}:42`)
        assert.equal(await cache.get('user:42'), 'ada')
        assert.deepStrictEqual(await collect(users.keys()), ['42'])
        await users.clear()
        assert.equal(await users.get('42'), undefined)
        assert.equal(await cache.get('top'), 1)
      })
    })

    describe('tags', () => {
      it('deleteByTag removes the tagged entries, across namespaces', async () => {
        if (!capabilities().tags) return
        const stats = cache.namespace('stats')
        await cache.set('accounts:42', [1], { tags: ['user:42'] })
        await stats.set('42', { total: 1 }, { tags: ['user:42', 'stats'] })
        await cache.set('accounts:7', [2], { tags: ['user:7'] })
        assert.equal(await cache.deleteByTag('user:42'), 2)
        assert.equal(await cache.get('accounts:42'), undefined)
        assert.equal(await stats.get('42'), undefined)
        assert.deepStrictEqual(await cache.get('accounts:7'), [2])
      })

      it('an entry rewritten without a tag no longer answers to it', async () => {
        if (!capabilities().tags) return
        await cache.set('k', 1, { tags: ['t'] })
        await cache.set('k', 2)
        await cache.deleteByTag('t')
        assert.equal(await cache.get('k'), 2)
      })

      it('expireByTag makes entries stale: get misses, getOrSet serves them while it refreshes', async () => {
        if (!capabilities().tags) return
        await cache.set('a', { v: 1 }, { ttl: '1h', tags: ['t'] })
        await cache.set('b', { v: 'kept' }, { tags: ['other'] })
        await cache.set('counter', 5, { tags: ['t'] })
        assert.equal(await cache.expireByTag('t'), 2)
        assert.equal(await cache.get('a'), undefined)
        assert.equal(await cache.has('a'), false)
        assert.equal(await cache.get('counter'), undefined) // a bare integer cannot be stale: it goes
        assert.deepStrictEqual(await cache.get('b'), { v: 'kept' })
        const left = await cache.ttl('a')
        assert.ok(typeof left === 'number' && left > 3_500_000, `ttl after expireByTag was ${left}`)
        const answer = await cache.getOrSet('a', async () => ({ v: 2 }))
        assert.deepStrictEqual(answer, { v: 1 }) // the stale value, while the refresh runs
        for (let i = 0; i < 100 && (await cache.get('a')) === undefined; i++) await sleep(10)
        assert.deepStrictEqual(await cache.get('a'), { v: 2 })
      })

      it('an entry made stale by one tag is still removed by another', async () => {
        if (!capabilities().tags) return
        await cache.set('k', { v: 1 }, { tags: ['t1', 't2'] })
        await cache.expireByTag('t1')
        assert.equal(await cache.deleteByTag('t2'), 1)
        assert.equal(await cache.getOrSet('k', () => 'fresh'), 'fresh')
      })

      it('tags of another prefix are not touched', async () => {
        if (!capabilities().tags) return
        await cache.set('k', 1, { tags: ['t'] })
        await other.set('k', 2, { tags: ['t'] })
        await cache.deleteByTag('t')
        assert.equal(await other.get('k'), 2)
      })
    })

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

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const item of iterable) out.push(item)
  return out
}
