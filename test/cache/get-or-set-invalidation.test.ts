import { describe, expect, it } from 'vitest'
import { type Cache, createCache, memoryStore, type Store } from '../../src/index.js'
import { bytesMapStoreWithTtl } from '../support/bytes-store.js'
import { closing } from '../support/caches.js'

/**
 * A factory reads the database, the app writes it and invalidates, then the factory's result
 * arrives: storing it would serve the pre-write value until its TTL. The flight must hand its
 * callers the value and leave the store as the invalidation left it.
 */
const keep = closing()

function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

describe.each([
  ['memory', (): Store => memoryStore()],
  ['bytes store', (): Store => bytesMapStoreWithTtl() as Store],
])('getOrSet against a change made while its factory runs (%s)', (_name, makeStore) => {
  const make = () => {
    return keep(createCache({ store: makeStore(), prefix: 'inv', ttl: '1h' }))
  }

  /** Starts a flight that reads `db` at once and answers when the gate opens. */
  function flight(cache: Cache, db: { value: string }, key = 'stats', tags = ['user:1']) {
    const g = gate()
    const result = cache.getOrSet(
      key,
      async () => {
        const read = db.value
        await g.opened
        return read
      },
      { tags },
    )
    return { result, open: g.open }
  }

  const changes: [string, (cache: Cache) => Promise<unknown>][] = [
    ['deleteByTag of one of its tags', (cache) => cache.deleteByTag('user:1')],
    ['delete of its key', (cache) => cache.delete('stats')],
    ['deleteMany with its key', (cache) => cache.deleteMany(['stats', 'other'])],
    ['deletePattern', (cache) => cache.deletePattern('st*')],
    ['clear', (cache) => cache.clear()],
    ['expireByTag of one of its tags', (cache) => cache.expireByTag('user:1')],
  ]
  const tagged = makeStore().capabilities.tags
  for (const [what, change] of changes) {
    // The core-only bytes store keeps no tags: those cases are not registered for it.
    if (!tagged && what.includes('Tag')) continue
    it(`${what}: the callers get the value, the store does not keep it`, async () => {
      const cache = make()
      const db = { value: 'before' }
      const { result, open } = flight(cache, db, 'stats', tagged ? ['user:1'] : [])
      await new Promise((resolve) => setImmediate(resolve))
      db.value = 'after'
      await change(cache)
      open()
      expect(await result).toBe('before')
      expect(await cache.get('stats')).toBeUndefined()
      expect(cache.stats().invalidatedFlights).toBe(1)
      expect(await cache.getOrSet('stats', () => db.value)).toBe('after')
    })
  }

  it('a set of its key while it runs wins over the flight', async () => {
    const cache = make()
    const db = { value: 'before' }
    const { result, open } = flight(cache, db, 'stats', tagged ? ['user:1'] : [])
    await new Promise((resolve) => setImmediate(resolve))
    await cache.set('stats', 'written')
    open()
    expect(await result).toBe('before')
    expect(await cache.get('stats')).toBe('written')
  })

  it('changes of other keys and tags do not stop it', async () => {
    const cache = make()
    const db = { value: 'v' }
    const { result, open } = flight(cache, db, 'stats', tagged ? ['user:1'] : [])
    await new Promise((resolve) => setImmediate(resolve))
    if (tagged) await cache.deleteByTag('user:2')
    await cache.delete('other')
    await cache.set('another', 1)
    open()
    expect(await result).toBe('v')
    expect(await cache.get('stats')).toBe('v')
    expect(cache.stats().invalidatedFlights).toBe(0)
  })

  it('a change before the factory starts does not count against it', async () => {
    const cache = make()
    await cache.delete('stats')
    expect(await cache.getOrSet('stats', () => 'v')).toBe('v')
    expect(await cache.get('stats')).toBe('v')
  })
})
