import assert from 'node:assert/strict'
import { collect, type SuiteContext, sleep } from './suite.js'

/** The conformance tests of many keys at once: batches, patterns, prefixes and tags. */
export function groupTests(t: SuiteContext): void {
  const { describe, it, shortTtl } = t

  describe('batches', () => {
    it('getMany returns the keys found', async () => {
      await t.cache.setMany({ a: 1, b: { two: 2 }, c: undefined })
      const found = await t.cache.getMany(['a', 'b', 'c', 'absent'])
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
      await t.cache.setMany(
        [
          ['x', 1],
          ['y', 2],
        ],
        { ttl: shortTtl },
      )
      const early = await t.cache.get('y')
      if (Date.now() - written < shortTtl) assert.equal(early, 2)
      await sleep(shortTtl * 2 + 20)
      assert.equal((await t.cache.getMany(['x', 'y'])).size, 0)
    })

    it('deleteMany says how many existed', async () => {
      await t.cache.setMany({ a: 1, b: 2 })
      assert.equal(await t.cache.deleteMany(['a', 'b', 'absent']), 2)
      assert.equal(await t.cache.has('a'), false)
    })

    it('delete says whether the key existed', async () => {
      await t.cache.set('k', 1)
      assert.equal(await t.cache.delete('k'), true)
      assert.equal(await t.cache.delete('k'), false)
    })
  })

  describe('patterns, keys and prefixes', () => {
    it('deletePattern matches globs under the prefix only', async () => {
      await t.cache.setMany({ 'user:1': 1, 'user:2': 2, 'user:10': 10, 'course:1': 1, 'user:a': 'a' })
      await t.other.set('user:1', 'other')
      assert.equal(await t.cache.deletePattern('user:?'), 3)
      assert.deepStrictEqual((await collect(t.cache.keys())).sort(), ['course:1', 'user:10'])
      assert.equal(await t.cache.deletePattern('user:[12]0'), 1)
      assert.equal(await t.other.get('user:1'), 'other')
    })

    it('keys yields keys as the caller wrote them', async () => {
      await t.cache.setMany({ 'course:1': 1, 'course:2': 2, lesson: 3 })
      await t.other.set('course:3', 3)
      assert.deepStrictEqual((await collect(t.cache.keys('course:*'))).sort(), ['course:1', 'course:2'])
      assert.deepStrictEqual((await collect(t.cache.keys())).sort(), ['course:1', 'course:2', 'lesson'])
    })

    it('clear removes its own prefix and nothing else', async () => {
      await t.cache.setMany({ a: 1, b: 2 })
      await t.other.set('a', 'kept')
      await t.cache.clear()
      assert.equal(await t.cache.get('a'), undefined)
      assert.equal(await t.other.get('a'), 'kept')
    })

    it('namespaces live under the parent and clear alone', async () => {
      const users = t.cache.namespace('user')
      await users.set('42', 'ada')
      await t.cache.set('top', 1)
      assert.equal(users.makeKey('42'), `${t.cache.makeKey('user')}:42`)
      assert.equal(await t.cache.get('user:42'), 'ada')
      assert.deepStrictEqual(await collect(users.keys()), ['42'])
      await users.clear()
      assert.equal(await users.get('42'), undefined)
      assert.equal(await t.cache.get('top'), 1)
    })
  })

  describe('tags', () => {
    it('deleteByTag removes the tagged entries, across namespaces', async () => {
      if (!t.capabilities().tags) return
      const stats = t.cache.namespace('stats')
      await t.cache.set('accounts:42', [1], { tags: ['user:42'] })
      await stats.set('42', { total: 1 }, { tags: ['user:42', 'stats'] })
      await t.cache.set('accounts:7', [2], { tags: ['user:7'] })
      assert.equal(await t.cache.deleteByTag('user:42'), 2)
      assert.equal(await t.cache.get('accounts:42'), undefined)
      assert.equal(await stats.get('42'), undefined)
      assert.deepStrictEqual(await t.cache.get('accounts:7'), [2])
    })

    it('an entry rewritten without a tag no longer answers to it', async () => {
      if (!t.capabilities().tags) return
      await t.cache.set('k', 1, { tags: ['t'] })
      await t.cache.set('k', 2)
      await t.cache.deleteByTag('t')
      assert.equal(await t.cache.get('k'), 2)
    })

    it('expireByTag makes entries stale: get misses, getOrSet serves them while it refreshes', async () => {
      if (!t.capabilities().tags) return
      await t.cache.set('a', { v: 1 }, { ttl: '1h', tags: ['t'] })
      await t.cache.set('b', { v: 'kept' }, { tags: ['other'] })
      await t.cache.set('counter', 5, { tags: ['t'] })
      assert.equal(await t.cache.expireByTag('t'), 2)
      assert.equal(await t.cache.get('a'), undefined)
      assert.equal(await t.cache.has('a'), false)
      assert.equal(await t.cache.get('counter'), undefined) // a bare integer cannot be stale: it goes
      assert.deepStrictEqual(await t.cache.get('b'), { v: 'kept' })
      const left = await t.cache.ttl('a')
      assert.ok(typeof left === 'number' && left > 3_500_000, `ttl after expireByTag was ${left}`)
      const answer = await t.cache.getOrSet('a', async () => ({ v: 2 }))
      assert.deepStrictEqual(answer, { v: 1 }) // the stale value, while the refresh runs
      for (let i = 0; i < 100 && (await t.cache.get('a')) === undefined; i++) await sleep(10)
      assert.deepStrictEqual(await t.cache.get('a'), { v: 2 })
    })

    it('an entry made stale by one tag is still removed by another', async () => {
      if (!t.capabilities().tags) return
      await t.cache.set('k', { v: 1 }, { tags: ['t1', 't2'] })
      await t.cache.expireByTag('t1')
      assert.equal(await t.cache.deleteByTag('t2'), 1)
      assert.equal(await t.cache.getOrSet('k', () => 'fresh'), 'fresh')
    })

    it('tags of another prefix are not touched', async () => {
      if (!t.capabilities().tags) return
      await t.cache.set('k', 1, { tags: ['t'] })
      await t.other.set('k', 2, { tags: ['t'] })
      await t.cache.deleteByTag('t')
      assert.equal(await t.other.get('k'), 2)
    })
  })
}
