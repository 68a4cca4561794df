/**
 * A small workload touching every Redis command family cachekit sends: the cache (plain, tags,
 * counters, patterns, getOrSet with cross-process leases, L1 tiers with the invalidation bus),
 * rate limiting (every algorithm), the login guard, one-time codes, locks, pub/sub (plain and
 * durable) and sessions. Run with a restricted ACL user, it proves the user may do all of that.
 * Throws on the first failure.
 */
import { createCache, memoryStore } from 'cachekit'
import { createLocks } from 'cachekit/lock'
import { channel } from 'cachekit/pubsub'
import { createLoginGuard, createOneTimeCodes, createRateLimiter } from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'
import { createSessions } from 'cachekit/session'

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`workload: ${what}`)
}

async function waitUntil(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error(`workload: ${what} within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function cachekitWorkload(url: string): Promise<void> {
  const tag = `wl${process.pid}${Date.now() % 100000}`
  const store = redisStore({ url, timeout: 5000, connectTimeout: 10_000 })
  await store.ready()
  const other = redisStore({ url, timeout: 5000, connectTimeout: 10_000 })
  await other.ready()
  try {
    // Cache
    const cache = createCache({ store, prefix: tag, ttl: '1m' })
    await cache.set('a', { at: new Date(0) }, { tags: ['t1'] })
    expect(((await cache.get('a')) as { at: Date }).at instanceof Date, 'get after set')
    expect(await cache.add('b', 1), 'add')
    expect(!(await cache.add('b', 2)), 'second add')
    expect((await cache.incr('n', 2)) === 2, 'incr')
    expect((await cache.decr('n')) === 1, 'decr')
    expect(await cache.touch('a', '2m'), 'touch')
    expect(((await cache.ttl('a')) ?? 0) > 60_000, 'ttl')
    await cache.setMany({ m1: 1, m2: 2 }, { ttl: '1m' })
    expect((await cache.getMany(['m1', 'm2'])).size === 2, 'getMany')
    expect(await cache.has('m1'), 'has')
    expect((await cache.deleteMany(['m1', 'm2'])) === 2, 'deleteMany')
    const keys: string[] = []
    for await (const key of cache.keys('*')) keys.push(key)
    expect(keys.includes('a'), 'keys')
    expect((await cache.deleteByTag('t1')) >= 1, 'deleteByTag')
    await cache.set('p:1', 1)
    expect((await cache.deletePattern('p:*')) === 1, 'deletePattern')
    let calls = 0
    const values = await Promise.all(
      [1, 2, 3].map(() => cache.getOrSet('gos', async () => ++calls, { ttl: '1m' })),
    )
    expect(
      values.every((v) => v === 1),
      'getOrSet',
    )
    // Tiers: two instances, an L1 each, kept coherent over pub/sub.
    const t1 = createCache({ tiers: [memoryStore(), store], prefix: `${tag}t` })
    const t2 = createCache({ tiers: [memoryStore(), other], prefix: `${tag}t` })
    await t1.set('x', 1)
    expect((await t2.get('x')) === 1, 'tiered get')
    await t1.set('x', 2)
    await waitUntil(() => true, 'bus')
    let seen: unknown
    const until = Date.now() + 10_000
    while ((seen = await t2.get('x')) !== 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    expect(seen === 2, 'tiered invalidation')
    await t1.close()
    await t2.close()
    await cache.clear()

    // Rate limiting, every algorithm
    const limiter = createRateLimiter({
      store,
      prefix: `${tag}rl`,
      rules: {
        gcra: '10/min',
        sliding: { limit: 10, window: '1m', algorithm: 'sliding-window' },
        fixed: { limit: 10, window: '1m', algorithm: 'fixed-window' },
        bucket: { limit: 10, window: '1m', algorithm: 'token-bucket' },
        both: ['5/s', '100/hour'],
      },
    })
    for (const scope of ['gcra', 'sliding', 'fixed', 'bucket', 'both'] as const) {
      expect((await limiter.consume(scope, 'k')).allowed, `consume ${scope}`)
      await limiter.peek(scope, 'k')
      await limiter.reset(scope, 'k')
    }
    await limiter.close()

    // Login guard
    const guard = createLoginGuard({
      store,
      prefix: `${tag}g`,
      failureLimit: 2,
      lockBy: ['ip', ['username', 'ip']],
    })
    const attempt = { username: 'ann', ip: '192.0.2.1' }
    for (let i = 0; i < 2; i++) {
      await guard.check(attempt)
      await guard.fail(attempt)
    }
    expect((await guard.check(attempt)).locked, 'guard locks')
    expect((await guard.unlock({ ip: '192.0.2.1' }, { by: 'workload' })) >= 1, 'guard unlock')
    await guard.check(attempt)
    await guard.succeed(attempt)
    await guard.reset({ username: 'ann', ip: '192.0.2.1' })
    expect((await guard.lockoutLog(10)).length >= 1, 'lockout log')
    await guard.close()

    // One-time codes
    const codes = createOneTimeCodes({
      store,
      prefix: `${tag}otp`,
      secret: 'a-test-secret-of-32-characters!!',
      ttl: '1m',
    })
    const code = await codes.issue('ann')
    expect(!(await codes.verify('ann', code === '000000' ? '111111' : '000000')), 'otp wrong code')
    expect(await codes.verify('ann', code), 'otp verify')
    await codes.revoke('ann')
    await codes.close()

    // Locks
    const locks = createLocks({ store, prefix: `${tag}lk:` })
    const held = await locks.lock('job', { ttl: '10s' })
    expect(held.token > 0, 'lock token')
    await held.extend?.('10s')
    expect(await held.release(), 'lock release')
    await locks.withLock('job', async () => {}, { ttl: '5s', wait: '5s' })
    await locks.close()

    // Pub/sub: plain and durable
    for (const durable of [undefined, { maxLen: 100, retention: '1h' as const }]) {
      const ch = channel<{ n: number }>(`${tag}ch${durable ? 'd' : 'p'}`, {
        store,
        ...(durable ? { durable } : {}),
      })
      const got: number[] = []
      const stop = await ch.subscribe((message) => {
        got.push(message.n)
      })
      const until2 = Date.now() + 10_000
      let n = 0
      while (got.length === 0 && Date.now() < until2) {
        await ch.publish({ n: ++n })
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(got.length > 0, `channel ${durable ? 'durable' : 'plain'}`)
      if (durable) {
        let replayed = 0
        for await (const _ of ch.messages({ signal: AbortSignal.timeout(200) })) {
          replayed++
          break
        }
        expect(replayed >= 0, 'replay')
      }
      await stop()
    }

    // Sessions
    const sessionCache = createCache({ store, prefix: `${tag}s` })
    const sessions = createSessions({ cache: sessionCache, secret: 'a-session-secret-of-32-characters!!' })
    const id = sessions.generateId()
    await sessions.save(id, { userId: 'ann', n: 1 })
    expect(((await sessions.load(id))?.data as { n?: number } | undefined)?.n === 1, 'session load')
    expect((await sessions.sessionsOf('ann')).length === 1, 'sessionsOf')
    await sessions.destroy(id)
    await sessionCache.clear()
  } finally {
    await store.close()
    await other.close()
  }
}
