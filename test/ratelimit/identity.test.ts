import { SocketAddress } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/index.js'
import {
  canonicalIp,
  createLoginGuard,
  InvalidIdentityError,
  ipIdentity,
  normalizeUsername,
  parseIp,
} from '../../src/ratelimit/index.js'

const group = fc.integer({ min: 0, max: 0xffff })
const groups = fc.array(group, { minLength: 8, maxLength: 8 })

/** One IPv6 address written with random leading zeros, case and (when possible) `::` compression. */
function spell(g: number[], choice: { zeros: number[]; upper: boolean[]; compress: boolean }): string {
  const parts = g.map((n, i) => {
    const hex = n.toString(16).padStart(Math.min(4, n.toString(16).length + (choice.zeros[i] ?? 0)), '0')
    return choice.upper[i] ? hex.toUpperCase() : hex
  })
  if (choice.compress) {
    const at = g.indexOf(0)
    if (at !== -1) {
      let end = at
      while (end < 8 && g[end] === 0) end++
      return `${parts.slice(0, at).join(':')}::${parts.slice(end).join(':')}`
    }
  }
  return parts.join(':')
}
const spelling = fc.record({
  zeros: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
  upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  compress: fc.boolean(),
})

describe('IP identity', () => {
  it('canonical IPv6 agrees with Node (RFC 5952) for random addresses and spellings', () => {
    fc.assert(
      fc.property(groups, spelling, (g, choice) => {
        fc.pre(!(g.slice(0, 5).every((n) => n === 0) && g[5] === 0xffff))
        const text = spell(g, choice)
        const node = new SocketAddress({ address: text, family: 'ipv6' }).address
        expect(canonicalIp(text)).toBe(node)
        expect(canonicalIp(spell(g, { zeros: [], upper: [], compress: false }))).toBe(node)
      }),
      { numRuns: 2000 },
    )
  })

  it('IPv4-mapped IPv6, dotted and hex, folds to IPv4', () => {
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('1.2.3.4')
    expect(canonicalIp('::FFFF:102:304')).toBe('1.2.3.4')
    expect(canonicalIp('0:0:0:0:0:ffff:0102:0304')).toBe('1.2.3.4')
    expect(canonicalIp('0000:0000:0000:0000:0000:FFFF:1.2.3.4')).toBe('1.2.3.4')
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (b) => {
        const v4 = b.join('.')
        const hex = `::ffff:${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
        expect(canonicalIp(`::ffff:${v4}`)).toBe(v4)
        expect(canonicalIp(hex)).toBe(v4)
        expect(canonicalIp(hex.toUpperCase())).toBe(v4)
        expect(ipIdentity(hex)).toBe(v4)
      }),
    )
  })

  it('zone ids are dropped; garbage, ports, octal-looking IPv4 are not addresses', () => {
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1')
    expect(canonicalIp('FE80::0001%25')).toBe('fe80::1')
    for (const bad of [
      '',
      'unknown',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      '1.2.3.4:80',
      '[::1]',
      '::1::2',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'fe80::1%',
      ':1',
      '1:',
    ]) {
      expect(parseIp(bad), bad).toBeUndefined()
    }
  })

  it('random addresses of one /64 share one identity; another /64 does not', () => {
    fc.assert(
      fc.property(groups, groups, spelling, (net, host, choice) => {
        fc.pre(!net.slice(0, 4).every((n) => n === 0))
        const a = spell([...net.slice(0, 4), ...host.slice(4)], choice)
        expect(ipIdentity(a)).toBe(ipIdentity(spell([...net.slice(0, 4), 0, 0, 0, 1], choice)))
        const other = [...net.slice(0, 3), (net[3]! + 1) % 0x10000, ...host.slice(4)]
        expect(ipIdentity(spell(other, choice))).not.toBe(ipIdentity(a))
      }),
      { numRuns: 1000 },
    )
    expect(ipIdentity('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(ipIdentity('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48')
    expect(ipIdentity('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6')
    expect(ipIdentity('203.0.113.5', 48)).toBe('203.0.113.5')
  })
})

/** Full-width forms of printable ASCII (U+FF01..U+FF5E). */
const fullWidth = (s: string) =>
  [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('')

describe('username identity', () => {
  const login = fc.stringMatching(/^[a-z0-9][a-z0-9._@+-]{0,30}$/)
  const variant = fc.record({
    upper: fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
    wide: fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
    left: fc.constantFrom('', ' ', '  ', '\t', '\u3000'),
    right: fc.constantFrom('', ' ', '\n', '\u00a0'),
  })
  const write = (name: string, v: { upper: boolean[]; wide: boolean[]; left: string; right: string }) =>
    v.left +
    [...name]
      .map((c, i) => {
        const cased = v.upper[i] ? c.toUpperCase() : c
        return v.wide[i] ? fullWidth(cased) : cased
      })
      .join('') +
    v.right

  it('case, surrounding spaces and full-width letters are one user', () => {
    fc.assert(
      fc.property(login, variant, (name, v) => {
        expect(normalizeUsername(write(name, v))).toBe(normalizeUsername(name))
      }),
      { numRuns: 2000 },
    )
    expect(normalizeUsername('Straße')).toBe(normalizeUsername('STRASSE'))
  })

  it("'trim' keeps case, false keeps everything, a function decides itself", () => {
    expect(normalizeUsername(' ＡＬＩＣＥ ', 'trim')).toBe('ALICE')
    expect(normalizeUsername(' Alice ', false)).toBe(' Alice ')
    expect(normalizeUsername('Alice', (n) => n.toLowerCase())).toBe('alice')
  })

  it('a lone surrogate is a typed error, never a URIError', async () => {
    for (const bad of ['\ud800', 'a\udc00b', 'x\ud83d']) {
      expect(() => normalizeUsername(bad)).toThrow(InvalidIdentityError)
      expect(() => normalizeUsername(bad, false)).toThrow(InvalidIdentityError)
    }
    const guard = createLoginGuard({ store: new MemoryStore(), lockBy: ['username'] })
    const error = await guard.check({ username: 'al\ud800ice' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidIdentityError)
    expect((error as InvalidIdentityError).code).toBe('E_INVALID_IDENTITY')
    // A well-formed astral character is fine.
    expect((await guard.check({ username: 'al😀ice' })).locked).toBe(false)
  })
})

describe('the guard counts one identity', () => {
  it('random addresses of one /64 and random spellings of one address: one lock', async () => {
    await fc.assert(
      fc.asyncProperty(
        groups,
        fc.array(fc.tuple(groups, spelling), { minLength: 6, maxLength: 6 }),
        async (net, tries) => {
          fc.pre(!net.slice(0, 4).every((n) => n === 0))
          const ips = tries.map(([host, choice]) => spell([...net.slice(0, 4), ...host.slice(4)], choice))
          expect(await lockTrail('ip', 5, ips)).toEqual([false, false, false, false, false, true])
        },
      ),
      { numRuns: 100 },
    )
  })

  it('one IPv4 client written as IPv4, dotted-mapped and hex-mapped IPv6: one lock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 }),
        async (b, picks) => {
          const v4 = b.join('.')
          const hi = ((b[0]! << 8) | b[1]!).toString(16)
          const lo = ((b[2]! << 8) | b[3]!).toString(16)
          const spellings = [
            v4,
            `::ffff:${v4}`,
            `::FFFF:${hi}:${lo}`,
            `0:0:0:0:0:ffff:${hi.padStart(4, '0')}:${lo.padStart(4, '0')}`,
            `0000::FfFf:${v4}`,
          ]
          const ips = picks.map((pick) => spellings[pick]!)
          expect(await lockTrail('ip', 5, ips)).toEqual([false, false, false, false, false, true])
        },
      ),
      { numRuns: 100 },
    )
  })

  it('random spellings of one login: one lock', async () => {
    const login = fc.stringMatching(/^[a-z][a-z0-9.]{2,12}@example\.com$/)
    await fc.assert(
      fc.asyncProperty(login, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), async (name, flips) => {
        const spellings = [
          name.toUpperCase(),
          ` ${name} `,
          fullWidth(name),
          flips[0] ? name : fullWidth(name.toUpperCase()),
        ]
        expect(await lockTrail('username', 3, spellings)).toEqual([false, false, false, true])
      }),
      { numRuns: 100 },
    )
  })
})

/**
 * A login guard on a memory store, locking by `lockBy` after `failureLimit` failures: each value is
 * checked, then failed unless locked. Resolves to the locked flag of every check, in order.
 */
async function lockTrail(
  lockBy: 'ip' | 'username',
  failureLimit: number,
  values: string[],
): Promise<boolean[]> {
  const guard = createLoginGuard({ store: new MemoryStore(), failureLimit, lockBy: [lockBy] })
  const locked: boolean[] = []
  for (const value of values) {
    const attempt = lockBy === 'ip' ? { ip: value } : { username: value }
    const check = await guard.check(attempt)
    locked.push(check.locked)
    if (!check.locked) await guard.fail(attempt)
  }
  return locked
}
