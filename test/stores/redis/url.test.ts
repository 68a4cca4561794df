import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../../src/errors.js'
import { parseRedisUrl, redactUrl, redisOptionsFromEnv } from '../../../src/stores/redis/index.js'
import { keySlot } from '../../../src/stores/redis/slot.js'

describe('parseRedisUrl', () => {
  it('reads standalone URLs with credentials, port and database', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({
      topology: 'standalone',
      host: 'localhost',
      port: 6379,
      database: 0,
      tls: false,
      username: undefined,
      password: undefined,
    })
    expect(parseRedisUrl('rediss://app:p%40ss%2Fw@cache.internal:6380/3')).toMatchObject({
      topology: 'standalone',
      host: 'cache.internal',
      port: 6380,
      database: 3,
      tls: true,
      username: 'app',
      password: 'p@ss/w',
    })
    expect(parseRedisUrl('redis://:secret@[::1]:7000/')).toMatchObject({
      host: '::1',
      port: 7000,
      password: 'secret',
    })
    expect(parseRedisUrl('valkey://h:1')).toMatchObject({ host: 'h', port: 1 })
  })

  it('reads Sentinel and Cluster URLs', () => {
    expect(parseRedisUrl('redis+sentinel://h1:26379,h2:26380/mymaster/1')).toMatchObject({
      topology: 'sentinel',
      sentinels: [
        { host: 'h1', port: 26379 },
        { host: 'h2', port: 26380 },
      ],
      masterName: 'mymaster',
      database: 1,
    })
    expect(parseRedisUrl('redis+sentinel://h1,h2/m')).toMatchObject({
      sentinels: [
        { host: 'h1', port: 26379 },
        { host: 'h2', port: 26379 },
      ],
    })
    expect(parseRedisUrl('rediss+cluster://u:p@n1:6379,n2:6380')).toMatchObject({
      topology: 'cluster',
      tls: true,
      nodes: [
        { host: 'n1', port: 6379 },
        { host: 'n2', port: 6380 },
      ],
    })
  })

  it('names the wrong part, and never the password', () => {
    const cases: [string, RegExp][] = [
      ['http://:hunter2@h', /scheme "http:\/\/"/],
      ['redis://:hunter2@h:99999', /port "99999"/],
      ['redis://:hunter2@h:abc', /port "abc"/],
      ['redis://:hunter2@h/x', /database "x"/],
      ['redis://:hunter2@h1,h2', /several hosts/],
      ['redis+sentinel://:hunter2@h1:26379', /master name is missing/],
      ['redis+cluster://:hunter2@h1/2', /only database 0/],
      ['redis://:hunter2@', /host is missing/],
      ['redis://:hunter2@h?timeout=1', /parameter "timeout"/],
      ['redis://u:%E0%A4%A@h', /percent-encoding/],
      ['localhost:6379', /scheme/],
    ]
    for (const [url, message] of cases) {
      let caught: unknown
      try {
        parseRedisUrl(url)
      } catch (error) {
        caught = error
      }
      expect(caught, url).toBeInstanceOf(InvalidOptionError)
      expect((caught as Error).message).toMatch(message)
      expect((caught as Error).message).not.toContain('hunter2')
      expect((caught as InvalidOptionError).code).toBe('E_INVALID_OPTION')
    }
  })

  it('redacts passwords', () => {
    const redactUrlCases: [string, string][] = [
      ['redis://u:p@ss@h:1/0', 'redis://u:***@h:1/0'],
      ['redis://secret@h', 'redis://***@h'],
      ['redis://h:1', 'redis://h:1'],
      ['redis:/default:pw@host:6379', 'redis:/default:***@host:6379'],
      ['rediss:/admin:pw@host', 'rediss:/admin:***@host'],
      ['default:pw@host', 'default:***@host'],
      ['redis://:pw@host', 'redis://:***@host'],
      ['redis://u:p%40ss@host', 'redis://u:***@host'],
      ['redis://host:6379?password=pw&db=1', 'redis://host:6379?password=***&db=1'],
      ['redis://u:two words@host', 'redis://u:***@host'],
    ]
    for (const [input, expected] of redactUrlCases) expect(redactUrl(input), input).toBe(expected)
  })

  it('never puts a password in an error, however the URL is written (property)', () => {
    // Passwords start with a marker no other part of these URLs holds.
    const password = fc.string({ maxLength: 12 }).map((tail) => `Zq${tail}`)
    const shapes: ((pw: string) => string)[] = [
      (pw) => `redis:/default:${pw}@host:6379`,
      (pw) => `rediss:/admin:${pw}@host:6379/x`,
      (pw) => `default:${pw}@host`,
      (pw) => `redis://:${pw}@host:99999`,
      (pw) => `redis://u:${encodeURIComponent(pw)}@host/db`,
      (pw) => `redis://u:${pw}@h1,h2`,
      (pw) => `http://u:${pw}@host`,
      (pw) => `redis://host?password=${encodeURIComponent(pw)}`,
      (pw) => `redis+sentinel://:${pw}@h1:26379`,
      // With no user written, a colon in the password would make what comes before it the user
      // name (as every client reads it), so this shape takes the password without its colons.
      (pw) => ` redis:///${pw.replaceAll(':', '')}@host`,
    ]
    fc.assert(
      fc.property(password, fc.constantFrom(...shapes), (pw, shape) => {
        const url = shape(pw)
        let caught: unknown
        try {
          parseRedisUrl(url)
        } catch (error) {
          caught = error
        }
        if (caught !== undefined) {
          expect(caught).toBeInstanceOf(InvalidOptionError)
          expect((caught as Error).message).not.toContain('Zq')
        }
        expect(redactUrl(url)).not.toContain('Zq')
      }),
      { numRuns: 1000 },
    )
  })
})

describe('redisOptionsFromEnv', () => {
  it('builds a Sentinel URL from django-redis style settings', () => {
    const options = redisOptionsFromEnv({
      REDIS_SENTINELS: 's1:26379, s2:26380,s3:26381',
      REDIS_SENTINEL_MASTER: 'cache-master',
      REDIS_DB: '2',
      REDIS_PASSWORD: 'p@ss/word',
      VALKEY_HOST: 'ignored',
    })
    expect(options?.url).toBe('redis+sentinel://:p%40ss%2Fword@s1:26379,s2:26380,s3:26381/cache-master/2')
    const parsed = parseRedisUrl(options?.url as string)
    expect(parsed).toMatchObject({
      topology: 'sentinel',
      masterName: 'cache-master',
      database: 2,
      password: 'p@ss/word',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: 's3', port: 26381 },
      ],
    })
    expect(redisOptionsFromEnv({ REDIS_URL: 'redis://first', REDIS_SENTINELS: 's1:26379' })?.url).toBe(
      'redis://first',
    )
  })

  it('reads CACHE_URL, REDIS_URL, REDIS_LOCATION, VALKEY_HOST/PORT in that order', () => {
    expect(redisOptionsFromEnv({})).toBeUndefined()
    expect(redisOptionsFromEnv({ CACHE_URL: 'redis://a', REDIS_URL: 'redis://b' })?.url).toBe('redis://a')
    expect(redisOptionsFromEnv({ CACHE_URL: 'memory://', REDIS_URL: 'redis://b' })?.url).toBe('redis://b')
    expect(redisOptionsFromEnv({ REDIS_LOCATION: 'redis://c:1/2' })?.url).toBe('redis://c:1/2')
    expect(redisOptionsFromEnv({ VALKEY_HOST: 'v', VALKEY_PORT: '7000' })?.url).toBe('redis://v:7000')
    expect(redisOptionsFromEnv({ VALKEY_HOST: 'v' }, { timeout: 50 })).toEqual({
      url: 'redis://v:6379',
      timeout: 50,
    })
  })
})

describe('keySlot', () => {
  it('matches Redis Cluster hash slots, hash tags included', () => {
    expect(keySlot('foo')).toBe(12182)
    expect(keySlot('123456789')).toBe(12739)
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'))
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'))
    expect(keySlot('{}foo')).not.toBe(keySlot('foo'))
  })
})
