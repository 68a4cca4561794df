import diagnostics from 'node:diagnostics_channel'
import { afterAll, describe, expect, it } from 'vitest'
import { CacheClosedError, InvalidOptionError } from '../../src/errors.js'
import { MemoryStore } from '../../src/index.js'
import { DEGRADED_CHANNEL, type DegradedEvent } from '../../src/observe/channels.js'
import {
  createLoginGuard,
  type LoginGuard,
  type LoginGuardOptions,
  type ProtectionStore,
} from '../../src/ratelimit/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { hasRedis } from '../support/ratelimit.js'
import { useRedisServer } from '../support/redis.js'

let n = 0
const uniq = () => `${process.pid}-${Date.now()}-${n++}`

async function lockOut(guard: LoginGuard, attempt: { username?: string; ip?: string }, times: number) {
  for (let i = 0; i < times; i++) {
    if (!(await guard.check(attempt)).locked) await guard.fail(attempt)
  }
}

function adminScenarios(store: () => ProtectionStore) {
  const make = (o: LoginGuardOptions) => createLoginGuard({ store: store(), prefix: `adm-${uniq()}`, ...o })

  it('a permanent lockout has a way out: admin unlock, logged with who, when, why, until', async () => {
    const guard = make({ failureLimit: 3, coolOff: null, lockBy: ['username'] })
    await lockOut(guard, { username: 'Alice@Example.com' }, 3)
    const locked = await guard.check({ username: 'alice@example.com' })
    expect(locked).toMatchObject({ locked: true, reason: 'locked', retryAfterMs: Number.POSITIVE_INFINITY })
    const before = Date.now()
    expect(
      await guard.unlock({ username: ' ALICE@example.com ' }, { by: 'ops@example.com', note: 'called in' }),
    ).toBe(1)
    expect((await guard.check({ username: 'alice@example.com' })).locked).toBe(false)
    const log = await guard.lockoutLog()
    expect(log.map((e) => e.kind)).toEqual(['unlock', 'lockout'])
    expect(log[0]).toMatchObject({
      username: 'alice@example.com',
      by: 'ops@example.com',
      reason: 'called in',
      records: 1,
    })
    expect(log[1]).toMatchObject({
      lock: 'username=alice%40example.com',
      username: 'alice@example.com',
      failures: 3,
      until: null,
      reason: '3 failed logins',
    })
    expect(log[1]!.at).toBeLessThanOrEqual(before)
  })

  it('unlock by user, by IP, or by both on a [username, ip] lock (found through the log)', async () => {
    const guard = make({ failureLimit: 2, coolOff: '1h', lockBy: [['username', 'ip']] })
    const pairs = [
      { username: 'bob', ip: '198.51.100.1' },
      { username: 'bob', ip: '198.51.100.2' },
      { username: 'carol', ip: '198.51.100.1' },
      { username: 'dave', ip: '2001:db8:1:2::5' },
    ]
    for (const p of pairs) await lockOut(guard, p, 2)
    for (const p of pairs) expect((await guard.check(p)).locked).toBe(true)
    expect(await guard.unlock({ username: 'BOB' })).toBe(2)
    expect((await guard.check(pairs[0]!)).locked).toBe(false)
    expect((await guard.check(pairs[1]!)).locked).toBe(false)
    expect((await guard.check(pairs[2]!)).locked).toBe(true)
    // By IP, any spelling of an address of the same /64.
    expect(await guard.unlock({ ip: '2001:0DB8:0001:0002:ffff::1' })).toBe(1)
    expect((await guard.check(pairs[3]!)).locked).toBe(false)
    expect(await guard.unlock({ username: 'carol', ip: '::ffff:198.51.100.1' })).toBe(1)
    expect((await guard.check(pairs[2]!)).locked).toBe(false)
    await expect(guard.unlock({})).rejects.toBeInstanceOf(InvalidOptionError)
  })

  it('with tiers, unlock keeps the failures (the next lockout is longer); reset forgets them', async () => {
    const tiers = [
      { failures: 2, coolOff: '1m' },
      { failures: 3, coolOff: '1h' },
    ] as const
    const guard = make({ tiers, lockBy: ['ip'] })
    const a = { ip: '203.0.113.50' }
    await lockOut(guard, a, 2)
    expect(await guard.unlock(a)).toBe(1)
    await lockOut(guard, a, 1)
    const next = await guard.check(a)
    expect(next.locked).toBe(true)
    expect(next.retryAfterMs).toBeGreaterThan(59 * 60_000)
    expect(await guard.reset(a)).toBe(1)
    await lockOut(guard, a, 1)
    expect((await guard.check(a)).locked).toBe(false)
    expect((await guard.lockoutLog(10)).map((e) => e.kind)).toEqual(['reset', 'lockout', 'unlock', 'lockout'])
  })

  it('the log is bounded, newest first', async () => {
    const guard = make({ failureLimit: 1, coolOff: '1m', lockBy: ['username'], logSize: 3 })
    for (let i = 0; i < 5; i++) await lockOut(guard, { username: `u${i}` }, 1)
    const log = await guard.lockoutLog(10)
    expect(log.map((e) => e.username)).toEqual(['u4', 'u3', 'u2'])
    expect((await guard.lockoutLog(1)).map((e) => e.username)).toEqual(['u4'])
  })

  it('close: later calls reject with CacheClosedError', async () => {
    const guard = make({})
    await guard.close()
    await guard.close()
    await expect(guard.check({ ip: '1.2.3.4' })).rejects.toBeInstanceOf(CacheClosedError)
    await expect(guard.unlock({ ip: '1.2.3.4' })).rejects.toBeInstanceOf(CacheClosedError)
  })
}

describe('login guard admin, memory store', () => {
  adminScenarios(() => new MemoryStore())

  it('100,000 failed logins on throwaway usernames never evict a lockout', async () => {
    const events: DegradedEvent[] = []
    const listen = (e: unknown) => events.push(e as DegradedEvent)
    diagnostics.subscribe(DEGRADED_CHANNEL, listen)
    try {
      const guard = createLoginGuard({
        failureLimit: 5,
        coolOff: null,
        lockBy: ['username'],
        maxRecords: 1000,
      })
      await lockOut(guard, { username: 'alice' }, 5)
      for (let i = 0; i < 100_000; i++) {
        const attempt = { username: `throwaway-${i}` }
        if (!(await guard.check(attempt)).locked) await guard.fail(attempt)
      }
      expect((await guard.check({ username: 'alice' })).reason).toBe('locked')
      const stats = guard.stats()
      expect(stats.records).toBeLessThanOrEqual(1000)
      expect(stats.evictions).toBeGreaterThan(98_000)
      expect(events.some((e) => e.source === 'login-guard' && e.kind === 'evicted-record')).toBe(true)
    } finally {
      diagnostics.unsubscribe(DEGRADED_CHANNEL, listen)
    }
  })

  it('full of lockouts: a new identity is refused (fail closed) and says so', async () => {
    const guard = createLoginGuard({ failureLimit: 1, coolOff: null, lockBy: ['username'], maxRecords: 10 })
    for (let i = 0; i < 10; i++) await lockOut(guard, { username: `locked-${i}` }, 1)
    const check = await guard.check({ username: 'newcomer' })
    expect(check).toMatchObject({ locked: true, reason: 'full' })
    expect(guard.stats().refusedFull).toBe(1)
    // An admin unlock frees room.
    await guard.unlock({ username: 'locked-0' })
    await guard.reset({ username: 'locked-0' })
    expect((await guard.check({ username: 'newcomer' })).locked).toBe(false)
    for (let i = 1; i < 10; i++) expect((await guard.check({ username: `locked-${i}` })).locked).toBe(true)
  })
})

describe.skipIf(!hasRedis)('login guard admin, Redis store', () => {
  const server = useRedisServer()
  const stores: RedisStore[] = []
  afterAll(async () => {
    for (const s of stores) await s.close()
  })
  adminScenarios(() => {
    const store = redisStore({ url: server.url })
    stores.push(store)
    return store
  })
})
