import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, globMatcher, matchGlob, memoryStore } from '../../../src/index.js'
import { lastMatchSteps } from '../../../src/internal/glob.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'

/** Characters that mean something to a glob, plus ordinary, multi-byte and boundary ones. */
const alphabet = fc.constantFrom(
  '*',
  '?',
  '[',
  ']',
  '^',
  '-',
  '\\',
  '!',
  'a',
  'b',
  'z',
  'A',
  '0',
  'é',
  '日',
  '\x7f',
)
const text = (maxLength: number) => fc.array(alphabet, { maxLength }).map((chars) => chars.join(''))

/** Every key in `keys` that Redis's own SCAN MATCH returns for `pattern`, on a database holding only `keys`. */
async function redisMatches(redis: Redis, patterns: readonly string[]): Promise<Set<string>[]> {
  return Promise.all(
    patterns.map(async (pattern) => {
      const found = new Set<string>()
      let cursor = '0'
      do {
        const [next, keys] = await redis.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', 10_000)
        for (const key of keys) found.add(key.toString('utf8'))
        cursor = next.toString()
      } while (cursor !== '0')
      return found
    }),
  )
}

describe('the glob matcher', () => {
  it('is linear in pattern × key: the pathological pattern is instant', () => {
    const pattern = '*a*a*a*a*a*a*a*a*a*a*a*a*b'
    const key = 'a'.repeat(60)
    const start = performance.now()
    expect(matchGlob(pattern, key)).toBe(false)
    expect(performance.now() - start).toBeLessThan(50)
    expect(lastMatchSteps()).toBeLessThanOrEqual((pattern.length + 1) * (key.length + 1))
    const long = `${'*a'.repeat(500)}b`
    expect(matchGlob(long, 'a'.repeat(1000))).toBe(false)
    expect(lastMatchSteps()).toBeLessThanOrEqual((long.length + 1) * 1001)
  })

  it('takes at most (pattern + 1) × (key + 1) steps on any input (property)', () => {
    fc.assert(
      fc.property(text(40), text(80), (pattern, key) => {
        matchGlob(pattern, key)
        const bytes = (s: string) => Buffer.byteLength(s)
        expect(lastMatchSteps()).toBeLessThanOrEqual((bytes(pattern) + 1) * (bytes(key) + 1))
      }),
      { numRuns: 5000 },
    )
  })

  it('accepts what Redis accepts, reversed ranges included', () => {
    expect(matchGlob('[z-a]', 'm')).toBe(true)
    expect(matchGlob('[z-a]', 'A')).toBe(false)
    expect(matchGlob('[abc', 'b')).toBe(true)
    expect(matchGlob('[', '[')).toBe(false)
    expect(matchGlob('[!a]', '!')).toBe(true)
    expect(matchGlob('a\\*', 'a*')).toBe(true)
    expect(matchGlob('a\\', 'a\\')).toBe(true)
    expect(matchGlob('??', 'é')).toBe(true)
  })

  it('stops the memory store and the bus from stalling on a pathological pattern', async () => {
    const cache = createCache({ store: memoryStore() })
    await cache.set('a'.repeat(60), 1)
    const start = performance.now()
    expect(await cache.deletePattern('*a*a*a*a*a*a*a*a*a*a*a*a*b')).toBe(0)
    expect(await cache.deletePattern('[z-b]*')).toBe(0)
    expect(await cache.deletePattern('[z-a]*')).toBe(1)
    expect(performance.now() - start).toBeLessThan(500)
    await cache.close()
  })
})

describe.skipIf(!redisAvailable())('the glob matcher agrees with Redis SCAN MATCH', () => {
  const server = useRedisServer()
  let redis: Redis

  beforeAll(async () => {
    redis = new Redis(server.url)
  })
  afterAll(async () => {
    redis?.disconnect()
  })

  it('on random patterns and keys (property, asked of a real server)', async () => {
    let matched = 0
    let compared = 0
    const round = fc.record({
      patterns: fc.uniqueArray(text(10), { minLength: 1, maxLength: 25 }),
      keys: fc.uniqueArray(text(10), { minLength: 1, maxLength: 60 }),
    })
    await fc.assert(
      fc.asyncProperty(round, async ({ patterns, keys }) => {
        // Keys built from the patterns' own characters match more often than random ones.
        const all = [...new Set([...keys, ...patterns.map((p) => p.replace(/[*?[\]\\]/g, ''))])]
        await redis.flushdb()
        await redis.mset(all.flatMap((key) => [key, '1']))
        const fromRedis = await redisMatches(redis, patterns)
        patterns.forEach((pattern, i) => {
          const matches = globMatcher(pattern)
          for (const key of all) {
            const expected = fromRedis[i]?.has(key)
            expect(matches(key), `pattern ${JSON.stringify(pattern)} key ${JSON.stringify(key)}`).toBe(
              expected,
            )
            compared++
            if (expected) matched++
          }
        })
      }),
      { numRuns: 300 },
    )
    // The rounds exercised both answers, not only "no match".
    expect(matched).toBeGreaterThan(compared / 50)
  })

  it('on the edge cases, one by one', async () => {
    const patterns = [
      '*',
      '**',
      '',
      '[',
      '[^',
      '[]a]',
      '[^]a]',
      '[a-]',
      '[a-]b]',
      '[\\]a]',
      '[z-a]',
      '[é-a]*',
      '[a-é]*',
      '\\',
      'a\\',
      '[\\',
      '*a*a*a*a*a*a*a*a*a*a*a*a*b',
      `${'*a'.repeat(1001)}*`,
      `${'*a'.repeat(1001)}`,
      `${'*a'.repeat(999)}`,
    ]
    const keys = [
      '',
      'a',
      'b',
      ']',
      ']a',
      '^',
      '-',
      '\\',
      '[',
      'é',
      'ab',
      'a'.repeat(60),
      'a'.repeat(1001),
      'a]b',
    ]
    await redis.flushdb()
    await redis.mset(keys.flatMap((key) => [key, '1']))
    const fromRedis = await redisMatches(redis, patterns)
    patterns.forEach((pattern, i) => {
      for (const key of keys) {
        expect(matchGlob(pattern, key), `pattern ${pattern.slice(0, 20)} key ${key.slice(0, 20)}`).toBe(
          fromRedis[i]?.has(key),
        )
      }
    })
  })
})
