import { describe, expect, expectTypeOf, it } from 'vitest'
import { rateLimit as expressRateLimit } from '../../src/http/express/index.js'
import { rateLimit as fastifyRateLimit, rateLimitHook } from '../../src/http/fastify/index.js'
import { rateLimit as honoRateLimit } from '../../src/http/hono/index.js'
import { createRateLimiter, type RateLimiter } from '../../src/ratelimit/index.js'

describe('middleware scopes are typed from the limiter rules', () => {
  const limiter = createRateLimiter({ rules: { anon: '100/hour', login: '5/min' } })

  it('the limiter knows its rule names without type arguments', () => {
    expectTypeOf(limiter).toEqualTypeOf<RateLimiter<'anon' | 'login'>>()
  })

  it('a known scope, or a callback returning one, compiles on every framework', () => {
    expect(typeof expressRateLimit({ limiter, scope: 'login' })).toBe('function')
    expect(typeof fastifyRateLimit({ limiter, scope: 'anon' })).toBe('function')
    expect(
      typeof rateLimitHook({ limiter, scope: (req) => (req.headers.authorization ? 'login' : 'anon') }),
    ).toBe('function')
    expect(typeof honoRateLimit({ limiter, scope: () => undefined })).toBe('function')
  })

  it('a misspelt scope does not compile (and throws at run time)', () => {
    // @ts-expect-error 'logn' is not a rule of this limiter
    expect(() => expressRateLimit({ limiter, scope: 'logn' })).toThrow(/not one of the limiter's rules/)
    // @ts-expect-error 'logn' is not a rule of this limiter
    expect(() => fastifyRateLimit({ limiter, scope: 'logn' })).toThrow(/not one of the limiter's rules/)
    // @ts-expect-error 'logn' is not a rule of this limiter
    expect(() => honoRateLimit({ limiter, scope: 'logn' })).toThrow(/not one of the limiter's rules/)
    // @ts-expect-error the callback returns a name that is not a rule
    expressRateLimit({ limiter, scope: () => 'logn' })
  })

  it('a limiter whose rule names are not known (rules built at run time) takes any scope', () => {
    const rules: Record<string, '5/min'> = { login: '5/min' }
    const dynamic = createRateLimiter({ rules })
    expectTypeOf(dynamic).toEqualTypeOf<RateLimiter<string>>()
    expect(typeof expressRateLimit({ limiter: dynamic, scope: 'login' })).toBe('function')
  })
})
