import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { compileClientIp } from '../../src/ratelimit/client-ip.js'
import { rateLimitHeaders } from '../../src/ratelimit/headers.js'
import { createRateLimiter, parseRule, type Rule } from '../../src/ratelimit/index.js'
import { addressList, ipKey } from '../../src/ratelimit/ip.js'

describe('rules', () => {
  it.each([
    ['100/hour', 100, 3_600_000],
    ['5/min', 5, 60_000],
    ['10/15m', 10, 900_000],
    ['1000/day', 1000, 86_400_000],
    ['3/s', 3, 1000],
    ['3/sec', 3, 1000],
    ['7/h', 7, 3_600_000],
    ['2/d', 2, 86_400_000],
    ['4/30s', 4, 30_000],
  ])('%s', (rule, limit, windowMs) => {
    expect(parseRule('x', rule)).toMatchObject({ limit, windowMs, algorithm: 'gcra', burst: limit })
  })

  it('objects with burst and algorithm', () => {
    expect(
      parseRule('x', { limit: 10, window: '1m', burst: 20, algorithm: 'token-bucket', blockFor: '5m' }),
    ).toMatchObject({
      limit: 10,
      windowMs: 60_000,
      burst: 20,
      algorithm: 'token-bucket',
      blockMs: 300_000,
    })
  })

  it.each(['100', '0/hour', '5/fortnight', '-1/min', '5/0m', 'abc'])(
    'rejects %s saying the syntax',
    (rule) => {
      expect(() => createRateLimiter({ rules: { x: rule as Rule } })).toThrow(InvalidOptionError)
      expect(() => createRateLimiter({ rules: { x: rule as Rule } })).toThrow(
        /'100\/hour', '5\/min', '10\/15m'/,
      )
    },
  )

  it('rejects bad objects, unknown scopes, bad keys and impossible costs', async () => {
    expect(() =>
      createRateLimiter({ rules: { x: { limit: 1, window: '1m', algorithm: 'leaky' as 'gcra' } } }),
    ).toThrow(InvalidOptionError)
    expect(() =>
      createRateLimiter({ rules: { x: { limit: 5, window: '1m', algorithm: 'fixed-window', burst: 9 } } }),
    ).toThrow(InvalidOptionError)
    const limiter = createRateLimiter({ rules: { x: '5/min' } })
    await expect(limiter.consume('y' as 'x', 'k')).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(limiter.consume('x', '')).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(limiter.consume('x', 'k', { cost: 6 })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(limiter.consume('x', 'k', { cost: 1.5 })).rejects.toBeInstanceOf(InvalidOptionError)
  })
})

describe('ip', () => {
  it('groups IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
    expect(ipKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(ipKey('2001:db8:1:2::ffff')).toBe(ipKey('2001:db8:1:2:aaaa::1'))
    expect(ipKey('2001:db8:1:3::1')).not.toBe(ipKey('2001:db8:1:2::1'))
    expect(ipKey('::ffff:203.0.113.5')).toBe('203.0.113.5')
    expect(ipKey('203.0.113.5')).toBe('203.0.113.5')
  })

  it('address lists take IPv4/IPv6 addresses and CIDR ranges', () => {
    const list = addressList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])
    expect(list.has('10.200.1.1')).toBe(true)
    expect(list.has('::ffff:10.200.1.1')).toBe(true)
    expect(list.has('192.0.2.7')).toBe(true)
    expect(list.has('192.0.2.8')).toBe(false)
    expect(list.has('2001:db8:ffff::1')).toBe(true)
    expect(list.has('2001:db9::1')).toBe(false)
    expect(list.has('garbage')).toBe(false)
    expect(() => addressList(['10.0.0.0/40'])).toThrow(InvalidOptionError)
  })

  it('trusts X-Forwarded-For only as configured', () => {
    const compileTrust = (trustProxy: false | number | string[]) => (peer: string, xff: string) =>
      compileClientIp({ trustProxy })(peer, () => xff)
    expect(compileTrust(false)('10.0.0.1', '1.2.3.4')).toBe('10.0.0.1')
    expect(compileTrust(1)('10.0.0.1', '9.9.9.9, 1.2.3.4')).toBe('1.2.3.4')
    expect(compileTrust(2)('10.0.0.1', '9.9.9.9, 1.2.3.4')).toBe('9.9.9.9')
    expect(compileTrust(['10.0.0.0/8'])('10.0.0.1', '9.9.9.9, 1.2.3.4, 10.0.0.2')).toBe('1.2.3.4')
    expect(compileTrust(['10.0.0.0/8'])('8.8.8.8', '1.2.3.4')).toBe('8.8.8.8')
  })
})

describe('headers', () => {
  it('IETF structured fields, Retry-After, optional legacy', async () => {
    const limiter = createRateLimiter({ rules: { login: '1/min' } })
    await limiter.consume('login', 'k')
    const refused = await limiter.consume('login', 'k')
    const headers = rateLimitHeaders(refused, { legacy: true }, 1_000_000)
    expect(headers['RateLimit-Policy']).toBe('"login";q=1;w=60')
    expect(headers['RateLimit']).toMatch(/^"login";r=0;t=(59|60)$/)
    expect(headers['Retry-After']).toMatch(/^(59|60)$/)
    expect(headers['X-RateLimit-Limit']).toBe('1')
    expect(headers['X-RateLimit-Remaining']).toBe('0')
  })
})
