import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../src/errors.js'
import { createCache, memoryStore } from '../../src/index.js'
import { createSessions, SessionSecretError, SessionStoreUnsupportedError } from '../../src/session/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { bytesMapStore } from '../support/bytes-store.js'
import { startRedis } from '../support/redis.js'
import { backings, hasRedis, SECRET, sessionsOn } from '../support/session.js'

describe('sessions: options', () => {
  it('refuses a missing or short secret with a typed error', () => {
    const cache = createCache({ store: memoryStore() })
    for (const secret of [undefined, '', 'short']) {
      const attempt = () => createSessions({ cache, secret: secret as string })
      expect(attempt).toThrow(SessionSecretError)
      try {
        attempt()
      } catch (error) {
        expect((error as SessionSecretError).code).toBe('E_SESSION_SECRET')
        expect((error as Error).message).not.toContain(String(secret || 'x-no-secret'))
      }
    }
  })

  it('refuses a store it cannot run on atomically', () => {
    const cache = createCache({ store: bytesMapStore() })
    expect(() => createSessions({ cache, secret: SECRET })).toThrow(SessionStoreUnsupportedError)
  })
})

for (const backing of backings()) {
  describe(`sessions core (${backing.name})`, () => {
    it('never stores the id: keys and values hold only its keyed hash', async () => {
      const cache = backing.cache()
      const sessions = sessionsOn(cache)
      const id = sessions.generateId()
      await sessions.save(id, { userId: 'u1', theme: 'dark' })
      const keys: string[] = []
      for await (const key of cache.keys('session*')) keys.push(key)
      expect(keys.length).toBeGreaterThanOrEqual(2)
      for (const key of keys) expect(key).not.toContain(id)
      expect(keys).toContain(`session:${sessions.handleOf(id)}`)
      // Another secret gives other keys: a leaked key list is no use without the secret.
      const other = createSessions({ cache, secret: `${SECRET}-other` })
      expect(await other.load(id)).toBeUndefined()
    })

    it('a destroyed session refuses late writes, merged or whole', async () => {
      const sessions = sessionsOn(backing.cache())
      const id = sessions.generateId()
      await sessions.save(id, { a: 1 })
      const read = await sessions.load(id)
      await sessions.destroy(id)
      expect(await sessions.save(id, { a: 1, b: 2 }, read?.snapshot)).toBe('destroyed')
      expect(await sessions.save(id, { c: 3 })).toBe('destroyed')
      // A touch due by the clock does not revive it either.
      const due = { fields: read?.snapshot.fields ?? {}, touchedAt: 0 }
      expect(await sessions.touch(id, due)).toBe('destroyed')
      expect(await sessions.load(id)).toBeUndefined()
    })

    it('a merge that finds its session expired writes the whole view back', async () => {
      const cache = backing.cache()
      const sessions = sessionsOn(cache)
      const id = sessions.generateId()
      await sessions.save(id, { a: 1, b: 2 })
      const read = await sessions.load(id)
      await cache.delete(`session:${sessions.handleOf(id)}`)
      expect(await sessions.save(id, { a: 1, b: 2, c: 3 }, read?.snapshot)).toBe('written')
      expect((await sessions.load(id))?.data).toEqual({ a: 1, b: 2, c: 3 })
    })

    it('touches at most once per touchAfter, and rolling expiry keeps a used session alive', async () => {
      const sessions = sessionsOn(backing.cache(), { ttl: 1500, touchAfter: 0.2 })
      const id = sessions.generateId()
      await sessions.save(id, { a: 1 })
      const fresh = await sessions.load(id)
      if (fresh === undefined) throw new Error('not saved')
      expect(await sessions.touch(id, fresh.snapshot)).toBe('skipped')
      expect(await sessions.save(id, { a: 1 }, fresh.snapshot)).toBe('skipped')
      // Used every 500 ms for 2.5 s (past its 1.5 s TTL): each use is a touch, so it lives on.
      for (let i = 0; i < 5; i++) {
        await sleep(500)
        const read = await sessions.load(id)
        expect(read?.data).toEqual({ a: 1 })
        if (read) expect(await sessions.touch(id, read.snapshot)).toBe('touched')
      }
      await sleep(2500)
      expect(await sessions.load(id)).toBeUndefined()
    })

    it('lists and destroys every session of a user, keeping the one asked', async () => {
      const a = sessionsOn(backing.cache())
      const b = sessionsOn(backing.cache())
      const ids = [a.generateId(), a.generateId(), b.generateId()]
      await a.save(ids[0] as string, { userId: 'frank' })
      await a.save(ids[1] as string, { userId: 'frank' })
      await b.save(ids[2] as string, { userId: 42 })
      await b.save(b.generateId(), { userId: 'grace' })
      expect((await b.sessionsOf('frank')).map((s) => s.handle).sort()).toEqual(
        [a.handleOf(ids[0] as string), a.handleOf(ids[1] as string)].sort(),
      )
      expect(await b.destroyUser('frank', { except: ids[0] as string })).toBe(1)
      expect(await a.load(ids[0] as string)).toBeDefined()
      expect(await a.load(ids[1] as string)).toBeUndefined()
      expect(await a.sessionsOf(42)).toHaveLength(1)
      expect(await a.sessionsOf('grace')).toHaveLength(1)
      // A session that changes hands (login as someone else without regenerating) leaves the old list.
      const read = await a.load(ids[0] as string)
      await a.save(ids[0] as string, { userId: 'grace' }, read?.snapshot)
      expect(await a.sessionsOf('frank')).toHaveLength(0)
      expect(await a.sessionsOf('grace')).toHaveLength(2)
    })

    it('keeps the user a request did not change, and drops the one it removed', async () => {
      const sessions = sessionsOn(backing.cache())
      const id = sessions.generateId()
      await sessions.save(id, { cart: 0 })
      const stale = await sessions.load(id)
      const login = await sessions.load(id)
      await sessions.save(id, { cart: 0, userId: 'jo' }, login?.snapshot)
      // A request that read the session before the login saves another field: still logged in.
      await sessions.save(id, { cart: 1 }, stale?.snapshot)
      expect((await sessions.load(id))?.data).toEqual({ cart: 1, userId: 'jo' })
      expect(await sessions.sessionsOf('jo')).toHaveLength(1)
      // Logging out by removing the field takes the session off the user's list.
      const read = await sessions.load(id)
      await sessions.save(id, { cart: 1 }, read?.snapshot)
      expect(await sessions.sessionsOf('jo')).toHaveLength(0)
    })

    it('merges long values (kept as digests) and short ones (kept as they are) alike', async () => {
      const sessions = sessionsOn(backing.cache())
      const id = sessions.generateId()
      const long = (c: string) => c.repeat(200)
      await sessions.save(id, { text: long('a'), n: 1, grows: 'x' })
      const first = await sessions.load(id)
      const second = await sessions.load(id)
      // Same length, one character apart: a digest still tells them apart.
      await sessions.save(id, { text: `${long('a').slice(1)}b`, n: 1, grows: long('x') }, first?.snapshot)
      // A request that read before that changes another field: it writes only that one.
      await sessions.save(id, { text: long('a'), n: 2, grows: 'x' }, second?.snapshot)
      expect((await sessions.load(id))?.data).toEqual({
        text: `${long('a').slice(1)}b`,
        n: 2,
        grows: long('x'),
      })
    })

    it('all() and count() list sessions by handle; clear() removes them', async () => {
      const cache = backing.cache().namespace(`all-${Date.now()}`)
      const sessions = sessionsOn(cache)
      const id = sessions.generateId()
      await sessions.save(id, { x: 1 })
      await sessions.save(sessions.generateId(), { x: 2 })
      const dead = sessions.generateId()
      await sessions.save(dead, { x: 3 })
      await sessions.destroy(dead)
      const all = []
      for await (const s of sessions.all()) all.push(s)
      expect(all.map((s) => s.data['x']).sort()).toEqual([1, 2])
      expect(await sessions.count()).toBe(2)
      await sessions.clear()
      expect(await sessions.count()).toBe(0)
    })
  })
}

describe.skipIf(!hasRedis)('sessions on a Redis that dies', () => {
  it("fail with the store's typed error within its deadline, whatever its onError", async () => {
    const server = await startRedis()
    const cache = createCache({ store: redisStore({ url: server.url, timeout: 300, onError: 'ignore' }) })
    try {
      const sessions = sessionsOn(cache)
      const id = sessions.generateId()
      await sessions.save(id, { a: 1 })
      await server.kill()
      for (const call of [
        () => sessions.load(id),
        () => sessions.save(id, { a: 2 }),
        () => sessions.destroy(id),
      ]) {
        const started = performance.now()
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(StoreUnavailableError)
        expect((error as StoreUnavailableError).code).toBe('E_STORE_UNAVAILABLE')
        expect(performance.now() - started).toBeLessThan(5000)
      }
    } finally {
      await cache.close()
      await server.stop()
    }
  })
})

describe.skipIf(!hasRedis)('sessions on a tiered cache', () => {
  it('run on the shared tier: two instances with their own L1 see one session', async () => {
    const server = await startRedis()
    const open = () =>
      createCache({
        tiers: [memoryStore(), redisStore({ url: server.url, timeout: 2000 })],
        prefix: 'tiered',
      })
    const caches = [open(), open()]
    try {
      const [a, b] = caches.map((cache) => sessionsOn(cache))
      if (a === undefined || b === undefined) throw new Error('no caches')
      const id = a.generateId()
      await a.save(id, { userId: 'ivy', x: 1 })
      const read = await b.load(id)
      expect(read?.data).toEqual({ userId: 'ivy', x: 1 })
      await b.save(id, { userId: 'ivy', x: 1, y: 2 }, read?.snapshot)
      expect((await a.load(id))?.data).toEqual({ userId: 'ivy', x: 1, y: 2 })
      expect(await b.destroyUser('ivy')).toBe(1)
      expect(await a.load(id)).toBeUndefined()
    } finally {
      await Promise.all(caches.map((cache) => cache.close()))
      await server.stop()
    }
  })
})
