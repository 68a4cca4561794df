import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { MemoryStore } from '../../src/index.js'
import {
  createLoginGuard,
  type LoginGuardOptions,
  type ProtectionStore,
  scriptRunnerFromClient,
} from '../../src/ratelimit/index.js'
import { hasRedis, useRedis } from '../support/ratelimit.js'

let n = 0
const user = () => `user-${process.pid}-${Date.now()}-${n++}`

function raceScenarios(store: () => ProtectionStore) {
  it('100 concurrent wrong passwords let exactly failureLimit through', async () => {
    const guard = createLoginGuard({
      store: store(),
      failureLimit: 5,
      coolOff: '15m',
      lockBy: [['username', 'ip']],
    })
    const attempt = { username: user(), ip: '203.0.113.9' }
    let through = 0
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const { locked } = await guard.check(attempt)
        if (locked) return
        through++
        await guard.fail(attempt)
      }),
    )
    expect(through).toBe(5)
    const after = await guard.check(attempt)
    expect(after.locked).toBe(true)
    expect(after.reason).toBe('locked')
    expect(after.retryAfterMs).toBeGreaterThan(14 * 60_000)
  })

  it('succeed clears the record; locks by ip and by username are independent', async () => {
    const guard = createLoginGuard({
      store: store(),
      failureLimit: 2,
      coolOff: '1h',
      lockBy: ['ip', 'username'],
    })
    const name = user()
    const a = { username: name, ip: '198.51.100.1' }
    for (let i = 0; i < 2; i++) {
      expect((await guard.check(a)).locked).toBe(false)
      await guard.fail(a)
    }
    expect((await guard.check(a)).locked).toBe(true)
    // Same user from elsewhere: the username lock holds.
    expect((await guard.check({ username: name, ip: '198.51.100.2' })).locked).toBe(true)
    // Someone else from that IP: the IP lock holds.
    expect((await guard.check({ username: user(), ip: '198.51.100.1' })).locked).toBe(true)
    await guard.succeed(a)
    expect((await guard.check(a)).locked).toBe(false)
  })

  it('permanent lockout without coolOff, reported as Infinity', async () => {
    const guard = createLoginGuard({ store: store(), failureLimit: 1 })
    const a = { ip: `10.9.${n++ % 250}.1`, username: user() }
    await guard.check(a)
    const failed = await guard.fail(a)
    expect(failed).toMatchObject({ locked: true, retryAfterMs: Number.POSITIVE_INFINITY })
    expect(await guard.check(a)).toMatchObject({ locked: true, retryAfterMs: Number.POSITIVE_INFINITY })
  })
}

describe('login guard on the memory store', () => {
  raceScenarios(() => new MemoryStore())

  function clocked(options: Omit<LoginGuardOptions, 'store' | 'clock'>) {
    const clock = { t: 1_700_000_000_000, now: () => clock.t }
    const guard = createLoginGuard({ ...options, store: new MemoryStore({ clock }), clock })
    return { guard, clock }
  }

  it('cool-off ends the lockout and forgets the failures', async () => {
    const { guard, clock } = clocked({ failureLimit: 2, coolOff: '15m' })
    const a = { ip: '192.0.2.1' }
    for (let i = 0; i < 2; i++) {
      await guard.check(a)
      await guard.fail(a)
    }
    expect((await guard.check(a)).locked).toBe(true)
    clock.t += 15 * 60_000
    expect((await guard.check(a)).locked).toBe(false)
    await guard.fail(a)
    expect((await guard.check(a)).locked).toBe(false)
  })

  it('tiers: 3 -> 15 min, 6 -> 2 h, 10 -> 24 h', async () => {
    const events: number[] = []
    const { guard, clock } = clocked({
      tiers: [
        { failures: 3, coolOff: '15m' },
        { failures: 6, coolOff: '2h' },
        { failures: 10, coolOff: '24h' },
      ],
      onLockout: (e) => events.push(e.retryAfterMs),
    })
    const a = { ip: '192.0.2.2' }
    const failUntilLocked = async () => {
      for (;;) {
        const c = await guard.check(a)
        if (c.locked) return c.retryAfterMs
        await guard.fail(a)
      }
    }
    expect(await failUntilLocked()).toBe(15 * 60_000)
    clock.t += 15 * 60_000
    expect(await failUntilLocked()).toBe(2 * 3_600_000)
    clock.t += 2 * 3_600_000
    expect(await failUntilLocked()).toBe(24 * 3_600_000)
    expect(events).toEqual([15 * 60_000, 2 * 3_600_000, 24 * 3_600_000])
  })

  it('failures during a lockout extend it unless turned off', async () => {
    for (const extendOnFailure of [true, false]) {
      const { guard, clock } = clocked({ failureLimit: 1, coolOff: '10m', extendOnFailure })
      const a = { ip: '192.0.2.3' }
      await guard.check(a)
      await guard.fail(a)
      clock.t += 5 * 60_000
      await guard.fail(a)
      expect((await guard.check(a)).retryAfterMs).toBe(extendOnFailure ? 10 * 60_000 : 5 * 60_000)
    }
  })

  it('unconfirmed reservations expire', async () => {
    const { guard, clock } = clocked({ failureLimit: 2, coolOff: '1h', reservation: '10s' })
    const a = { ip: '192.0.2.4' }
    await guard.check(a)
    await guard.check(a)
    expect(await guard.check(a)).toMatchObject({ locked: true, reason: 'busy', retryAfterMs: 10_000 })
    clock.t += 10_000
    expect((await guard.check(a)).locked).toBe(false)
  })

  it('allow and deny lists with CIDR ranges (IPv4 and IPv6), user agent and callback locks', async () => {
    const { guard } = clocked({
      failureLimit: 1,
      coolOff: '1h',
      allowList: ['10.0.0.0/8', '2001:db8:1::/48'],
      denyList: ['192.0.2.0/24', '2001:db8:bad::/48'],
      lockBy: ['userAgent', (a) => (typeof a['tenant'] === 'string' ? `tenant:${a['tenant']}` : undefined)],
    })
    for (const ip of ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8:1:2::5']) {
      await guard.fail({ ip, userAgent: 'x' })
      expect(await guard.check({ ip, userAgent: 'x' })).toMatchObject({ locked: false })
    }
    expect(await guard.check({ ip: '192.0.2.77' })).toMatchObject({ locked: true, reason: 'deny-list' })
    expect(await guard.check({ ip: '2001:db8:bad::1' })).toMatchObject({ locked: true, reason: 'deny-list' })
    await guard.check({ ip: '198.51.100.5', userAgent: 'curl', tenant: 't1' })
    await guard.fail({ ip: '198.51.100.5', userAgent: 'curl', tenant: 't1' })
    expect((await guard.check({ ip: '198.51.100.6', userAgent: 'curl' })).locked).toBe(true)
    expect((await guard.check({ ip: '198.51.100.6', userAgent: 'firefox', tenant: 't1' })).locked).toBe(true)
    expect((await guard.check({ ip: '198.51.100.6', userAgent: 'firefox', tenant: 't2' })).locked).toBe(false)
  })

  it('rejects bad options with InvalidOptionError', () => {
    expect(() => createLoginGuard({ failureLimit: 0 })).toThrow(InvalidOptionError)
    expect(() => createLoginGuard({ lockBy: ['email' as 'ip'] })).toThrow(InvalidOptionError)
    expect(() => createLoginGuard({ allowList: ['10.0.0.0/33'] })).toThrow(InvalidOptionError)
    expect(() => createLoginGuard({ tiers: [] })).toThrow(InvalidOptionError)
  })
})

describe.skipIf(!hasRedis)('login guard on Redis', () => {
  const redis = useRedis()
  let store: ProtectionStore
  beforeAll(async () => {
    store = scriptRunnerFromClient(await redis.client())
  })
  raceScenarios(() => store)

  it('unconfirmed reservations expire (server clock)', async () => {
    const guard = createLoginGuard({ store, failureLimit: 1, coolOff: '1h', reservation: 200 })
    const a = { ip: '192.0.2.9', username: user() }
    expect((await guard.check(a)).locked).toBe(false)
    expect((await guard.check(a)).reason).toBe('busy')
    await new Promise((r) => setTimeout(r, 250))
    expect((await guard.check(a)).locked).toBe(false)
  })
})
