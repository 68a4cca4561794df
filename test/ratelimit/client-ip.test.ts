import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { compileClientIp, parseForwarded, type TrustProxy } from '../../src/ratelimit/index.js'

const resolve = (trustProxy: TrustProxy, peer: string, xff?: string, header?: 'forwarded') =>
  compileClientIp({ trustProxy, header })(peer, (name) =>
    name === (header ?? 'x-forwarded-for') ? xff : undefined,
  )

describe('clientIp', () => {
  it('trusts nothing by default: the socket peer, canonical', () => {
    expect(resolve(false, '::ffff:10.0.0.1', '1.2.3.4')).toBe('10.0.0.1')
    expect(resolve(0, '2001:DB8::0001', '1.2.3.4')).toBe('2001:db8::1')
    expect(compileClientIp()(undefined, () => '1.2.3.4')).toBeUndefined()
  })

  it('hop counts, CIDR lists, presets and comma strings', () => {
    expect(resolve(1, '10.0.0.1', '9.9.9.9, 1.2.3.4')).toBe('1.2.3.4')
    expect(resolve(2, '10.0.0.1', '9.9.9.9, 1.2.3.4')).toBe('9.9.9.9')
    expect(resolve(5, '10.0.0.1', '9.9.9.9, 1.2.3.4')).toBe('9.9.9.9')
    expect(resolve('loopback', '127.0.0.1', '6.6.6.6')).toBe('6.6.6.6')
    expect(resolve('loopback', '::1', '6.6.6.6')).toBe('6.6.6.6')
    expect(resolve('loopback', '10.0.0.1', '6.6.6.6')).toBe('10.0.0.1')
    expect(resolve(['uniquelocal'], '10.1.1.1', '1.1.1.1, 192.168.0.9, 172.16.3.3')).toBe('1.1.1.1')
    expect(resolve('private', 'fd00::1', '2001:db8::7')).toBe('2001:db8::7')
    expect(resolve('linklocal', 'fe80::1%eth0', '203.0.113.1')).toBe('203.0.113.1')
    expect(resolve('10.0.0.1, 10.0.0.2', '10.0.0.1', '5.5.5.5, 10.0.0.2')).toBe('5.5.5.5')
    expect(resolve(['::ffff:10.0.0.0/104'], '10.9.9.9', '5.5.5.5')).toBe('5.5.5.5')
    expect(resolve((ip, hop) => hop === 0 && ip === '10.0.0.1', '10.0.0.1', '8.8.8.8, 5.5.5.5')).toBe(
      '5.5.5.5',
    )
    expect(resolve(true, '10.0.0.1', '8.8.8.8, 5.5.5.5')).toBe('8.8.8.8')
    expect(resolve(1, '10.0.0.1', undefined)).toBe('10.0.0.1')
    expect(resolve(1, '10.0.0.1', '  ')).toBe('10.0.0.1')
  })

  it('entries with ports (Azure Application Gateway, IIS ARR) keep their position', () => {
    expect(resolve(1, '10.0.0.1', '127.0.0.1, 203.0.113.7:51234')).toBe('203.0.113.7')
    expect(resolve(1, '10.0.0.1', '1.1.1.1, [2001:db8::1]:443')).toBe('2001:db8::1')
    expect(resolve(1, '10.0.0.1', '1.1.1.1, [2001:DB8::1]')).toBe('2001:db8::1')
    expect(resolve(2, '10.0.0.1', '1.1.1.1, 203.0.113.7:5, 10.0.0.9:80')).toBe('203.0.113.7')
  })

  it("'unknown', obfuscated and garbage entries stop the walk: never skipped", () => {
    // With one trusted hop, the proxy said the client is unknown: a forged entry must not move in.
    expect(resolve(1, '10.0.0.1', '127.0.0.1, unknown')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', '127.0.0.1, _hidden')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', '127.0.0.1, ')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', '127.0.0.1,,')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', '1.2.3.4:99999999')).toBeUndefined()
    expect(resolve(3, '10.0.0.1', '6.6.6.6, unknown, 10.0.0.2')).toBeUndefined()
    expect(resolve(['10.0.0.0/8'], '10.0.0.1', '6.6.6.6, unknown, 10.0.0.2')).toBeUndefined()
    // An untrusted hop before the unknown one ends the walk first.
    expect(resolve(['10.0.0.0/8'], '10.0.0.1', 'unknown, 7.7.7.7')).toBe('7.7.7.7')
  })

  it('RFC 7239 Forwarded', () => {
    expect(
      parseForwarded(
        'for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711", for=unknown',
      ),
    ).toHaveLength(3)
    const header = 'for=6.6.6.6, For="[2001:db8:cafe::17]:4711";proto=https'
    expect(resolve(1, '10.0.0.1', header, 'forwarded')).toBe('2001:db8:cafe::17')
    expect(resolve(2, '10.0.0.1', header, 'forwarded')).toBe('6.6.6.6')
    expect(resolve(1, '10.0.0.1', 'for=6.6.6.6, for="198.51.100.17:80"', 'forwarded')).toBe('198.51.100.17')
    expect(resolve(1, '10.0.0.1', 'for=6.6.6.6, for=unknown', 'forwarded')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', 'for=6.6.6.6, for=_x9', 'forwarded')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', 'for=6.6.6.6, proto=https', 'forwarded')).toBeUndefined()
    expect(resolve(1, '10.0.0.1', 'for=6.6.6.6, for="a,b";by=x, for=5.5.5.5', 'forwarded')).toBe('5.5.5.5')
    expect(resolve(2, '10.0.0.1', 'for=6.6.6.6, for="a,b";by=x, for=5.5.5.5', 'forwarded')).toBeUndefined()
    // Only the configured header is read: a client cannot pick the one its proxy leaves alone.
    expect(resolve(1, '10.0.0.1', '6.6.6.6', 'forwarded')).toBeUndefined()
  })

  it('bad trust settings are typed errors at creation', () => {
    for (const bad of [-1, 1.5, 101, ['nonsense'], '10.0.0.0/33', {}] as unknown[]) {
      expect(() => compileClientIp({ trustProxy: bad as TrustProxy })).toThrow(InvalidOptionError)
    }
    expect(() => compileClientIp({ header: 'x-real-ip' as 'forwarded' })).toThrow(InvalidOptionError)
  })

  const v4 = fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })
    .map((b) => b.join('.'))
  const v6 = fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .map((g) => g.map((n) => n.toString(16)).join(':'))
  /** What a proxy may write for the address it saw. */
  const written = fc.oneof(
    v4.map((ip) => ({ text: ip, ip })),
    v4.chain((ip) => fc.integer({ min: 1, max: 65535 }).map((p) => ({ text: `${ip}:${p}`, ip }))),
    v6.map((ip) => ({ text: ip, ip })),
    v6.chain((ip) => fc.integer({ min: 1, max: 65535 }).map((p) => ({ text: `[${ip}]:${p}`, ip }))),
    fc.constantFrom('unknown', '_hidden', 'garbage', 'unknown:0').map((text) => ({ text, ip: undefined })),
  )
  const forged = fc.array(
    fc.oneof(v4, v6, fc.constantFrom('127.0.0.1', '::1', '10.0.0.1', 'unknown', '', '1.2.3.4:80', '[::1]:1')),
    { maxLength: 5 },
  )

  it('property: whatever the client forges, the answer is what the nearest untrusted-side hop wrote', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        forged,
        fc.array(written, { minLength: 4, maxLength: 4 }),
        (hops, fake, chain) => {
          // `hops` trusted proxies append chain entries; the client's own header comes first.
          const appended = chain.slice(0, hops)
          const header = [...fake, ...appended.map((e) => e.text)].join(', ')
          const got = resolve(hops, '10.0.0.1', header)
          // Walk from the socket: the first unparsable appended entry, or the hops-th, decides.
          let expected: string | undefined
          for (let i = appended.length - 1; i >= 0; i--) {
            const entry = appended[i]!
            expected =
              entry.ip === undefined ? undefined : (compileClientIp()(entry.ip, () => undefined) as string)
            if (entry.ip === undefined) break
          }
          expect(got).toBe(expected)
        },
      ),
      { numRuns: 3000 },
    )
  })
})
