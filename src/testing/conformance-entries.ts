import assert from 'node:assert/strict'
import { type SuiteContext, sleep } from './suite.js'
import { ROUND_TRIP_VALUES } from './values.js'

/** The conformance tests of single entries: values, TTLs, `add` and counters. */
export function entryTests(t: SuiteContext): void {
  const { describe, it, shortTtl } = t

  describe('values', () => {
    it('misses with undefined', async () => {
      assert.equal(await t.cache.get('absent'), undefined)
      assert.equal(await t.cache.has('absent'), false)
    })

    for (const [name, value] of Object.entries(ROUND_TRIP_VALUES)) {
      it(`round-trips ${name}`, async () => {
        await t.cache.set(name, value)
        assert.deepStrictEqual(await t.cache.get(name), value)
        assert.equal(await t.cache.has(name), true)
      })
    }

    it('overwrites', async () => {
      await t.cache.set('k', 1)
      await t.cache.set('k', { two: 2 })
      assert.deepStrictEqual(await t.cache.get('k'), { two: 2 })
    })

    it('refuses a value it cannot store, and keeps the old one', async () => {
      await t.cache.set('k', 'old')
      await assert.rejects(t.cache.set('k', { fn: () => 1 }), { code: 'E_VALUE_NOT_ENCODABLE' })
      const circular: Record<string, unknown> = {}
      circular['self'] = circular
      await assert.rejects(t.cache.set('k', circular), { code: 'E_VALUE_CIRCULAR' })
      assert.equal(await t.cache.get('k'), 'old')
    })
  })

  describe('ttl', () => {
    it('expires entries', async () => {
      const written = Date.now()
      await t.cache.set('short', 'v', { ttl: shortTtl })
      await t.cache.set('long', 'v', { ttl: '1h' })
      const early = await t.cache.get('short')
      // On a loaded machine the read may come after the TTL; only then may it miss.
      if (Date.now() - written < shortTtl) assert.equal(early, 'v')
      await sleep(shortTtl * 2 + 20)
      assert.equal(await t.cache.get('short'), undefined)
      assert.equal(await t.cache.has('short'), false)
      assert.equal(await t.cache.get('long'), 'v')
    })

    it('reports ms left, null for no expiry, undefined when missing', async () => {
      await t.cache.set('timed', 1, { ttl: '10m' })
      await t.cache.set('forever', 1, { ttl: null })
      const left = await t.cache.ttl('timed')
      assert.ok(typeof left === 'number' && left > 590_000 && left <= 600_000, `ttl was ${left}`)
      assert.equal(await t.cache.ttl('forever'), null)
      assert.equal(await t.cache.ttl('absent'), undefined)
    })

    it('stores nothing with a TTL of 0, and removes the old value', async () => {
      await t.cache.set('k', 1)
      await t.cache.set('k', 2, { ttl: 0 })
      assert.equal(await t.cache.get('k'), undefined)
    })

    it('touch gives a new TTL and says whether the key existed', async () => {
      await t.cache.set('k', 1, { ttl: '1h' })
      await t.cache.set('short', 1, { ttl: '1h' })
      assert.equal(await t.cache.touch('short', shortTtl), true)
      await sleep(shortTtl * 2 + 20)
      assert.equal(await t.cache.get('short'), undefined)
      const left = await t.cache.ttl('k')
      assert.ok(typeof left === 'number' && left > 3_500_000, `ttl was ${left}`)
      assert.equal(await t.cache.touch('k', '2h'), true)
      const longer = await t.cache.ttl('k')
      assert.ok(typeof longer === 'number' && longer > 7_100_000, `touched ttl was ${longer}`)
      assert.equal(await t.cache.touch('k', null), true)
      assert.equal(await t.cache.ttl('k'), null)
      assert.equal(await t.cache.touch('absent', '1h'), false)
    })

    it('touch moves both the stale time and the hard expiry of an entry written with grace', async () => {
      const tagged = t.capabilities().tags ? { tags: ['g'] } : {}
      await t.cache.getOrSet('g', () => 'v', { ttl: shortTtl, grace: '1h', ...tagged })
      assert.equal(await t.cache.touch('g', '2h'), true)
      await sleep(shortTtl * 2 + 20)
      // Fresh still: the stale time moved to 2 h from the touch.
      assert.equal(await t.cache.get('g'), 'v')
      const left = await t.cache.ttl('g')
      assert.ok(typeof left === 'number' && left > 3 * 3_590_000, `ttl after touch was ${left}`)
      if (t.capabilities().tags) {
        assert.equal(await t.cache.deleteByTag('g'), 1)
        assert.equal(await t.cache.get('g'), undefined)
      }
    })

    it('refuses a TTL beyond 100 years (InvalidTtlError), and writes nothing', async () => {
      const century = 3_155_760_000_000
      await assert.rejects(t.cache.set('k', 1, { ttl: century + 1 }), { code: 'E_INVALID_TTL' })
      await assert.rejects(t.cache.set('k', 1, { ttl: 1e20 }), { code: 'E_INVALID_TTL' })
      await assert.rejects(t.cache.incr('n', 1, { ttl: 1e20 }), { code: 'E_INVALID_TTL' })
      assert.equal(await t.cache.get('k'), undefined)
      assert.equal(await t.cache.get('n'), undefined)
      await t.cache.set('k', 1)
      await assert.rejects(t.cache.touch('k', 1e20), { code: 'E_INVALID_TTL' })
      assert.equal(await t.cache.ttl('k'), null)
      await t.cache.set('c', 1, { ttl: century })
      const left = await t.cache.ttl('c')
      assert.ok(typeof left === 'number' && left > century - 60_000, `ttl was ${left}`)
    })
  })

  describe('add', () => {
    it('writes only when absent', async () => {
      assert.equal(await t.cache.add('k', 'first'), true)
      assert.equal(await t.cache.add('k', 'second'), false)
      assert.equal(await t.cache.get('k'), 'first')
    })

    it('treats an expired entry as absent', async () => {
      await t.cache.set('k', 'old', { ttl: shortTtl })
      await sleep(shortTtl * 2 + 20)
      assert.equal(await t.cache.add('k', 'new'), true)
      assert.equal(await t.cache.get('k'), 'new')
    })

    it('lets exactly one of many concurrent callers win when the store is atomic', async () => {
      if (!t.capabilities().atomic) return
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => t.cache.add('race', i)))
      assert.equal(results.filter(Boolean).length, 1)
    })
  })

  describe('counters', () => {
    it('counts from 0 when missing, and works on an integer written by set', async () => {
      assert.equal(await t.cache.incr('n'), 1)
      assert.equal(await t.cache.incr('n', 5), 6)
      assert.equal(await t.cache.decr('n', 2), 4)
      assert.equal(await t.cache.get('n'), 4)
      await t.cache.set('m', 10)
      assert.equal(await t.cache.incr('m'), 11)
      assert.equal(await t.cache.decr('fresh'), -1)
    })

    it('creates with the TTL and keeps an existing TTL', async () => {
      await t.cache.incr('n', 1, { ttl: '10m' })
      const left = await t.cache.ttl('n')
      assert.ok(typeof left === 'number' && left > 590_000, `ttl was ${left}`)
      await t.cache.incr('n', 1, { ttl: '1h' })
      const after = await t.cache.ttl('n')
      assert.ok(typeof after === 'number' && after <= 600_000, `existing TTL changed to ${after}`)
    })

    it('is exact under concurrency when the store is atomic', async () => {
      if (!t.capabilities().atomic) return
      await Promise.all(Array.from({ length: 50 }, () => t.cache.incr('hits')))
      assert.equal(await t.cache.get('hits'), 50)
    })

    it('increments a tagged integer, which deleteByTag still removes', async () => {
      await t.cache.set('t', 5, { tags: ['counter'] })
      assert.equal(await t.cache.incr('t', 2), 7)
      assert.equal(await t.cache.get('t'), 7)
      if (!t.capabilities().tags) return
      assert.equal(await t.cache.deleteByTag('counter'), 1)
      assert.equal(await t.cache.get('t'), undefined)
    })

    it('refuses to increment a value that is not an integer', async () => {
      await t.cache.set('s', 'text')
      await assert.rejects(t.cache.incr('s'), { code: 'E_NOT_INTEGER' })
      assert.equal(await t.cache.get('s'), 'text')
    })
  })
}
