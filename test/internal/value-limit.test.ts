/** `maxValueBytes`: one default, one validation and one refusal for the codec and both byte stores. */
import { describe, expect, it } from 'vitest'
import { createCodec } from '../../src/codec/codec.js'
import { createCache } from '../../src/index.js'
import { DEFAULT_MAX_VALUE_BYTES } from '../../src/internal/limits.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { sqlStore } from '../../src/stores/sql/index.js'

const owners: Record<string, (maxValueBytes: unknown) => { close?: () => Promise<void> } | undefined> = {
  codec: (maxValueBytes) => void createCodec({ maxValueBytes: maxValueBytes as number }),
  redisStore: (maxValueBytes) =>
    redisStore({ url: 'redis://127.0.0.1:6379', maxValueBytes: maxValueBytes as number }),
  sqlStore: (maxValueBytes) =>
    sqlStore({ dialect: 'sqlite', filename: ':memory:', maxValueBytes: maxValueBytes as number }),
}

describe('maxValueBytes', () => {
  it('is 16 MiB by default', () => {
    expect(DEFAULT_MAX_VALUE_BYTES).toBe(16 * 1024 * 1024)
  })

  for (const [owner, make] of Object.entries(owners)) {
    it(`${owner} refuses the same bad values with the same message`, async () => {
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1mb']) {
        expect(() => make(bad)).toThrow(
          expect.objectContaining({
            code: 'E_INVALID_OPTION',
            message: `${owner} maxValueBytes must be a whole number of bytes > 0, got ${String(bad)}`,
          }),
        )
      }
      await make(4096)?.close?.()
    })
  }

  it('the SQL store refuses an entry over its limit before writing anything, as the Redis store does', async () => {
    const store = sqlStore({ dialect: 'sqlite', filename: ':memory:', maxValueBytes: 1024 })
    const cache = createCache({ store, prefix: 'limit' })
    const error = await cache.set('big', 'x'.repeat(2000)).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'E_VALUE_TOO_LARGE', key: 'limit:big' })
    expect((error as Error).message).toMatch(
      /over maxValueBytes \(1024\): store less, or raise maxValueBytes/,
    )
    await expect(store.add('raw', new Uint8Array(1025), { ttl: null })).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
    })
    expect(await cache.has('big')).toBe(false)
    await cache.set('small', 'x'.repeat(100))
    expect(await cache.get('small')).toBe('x'.repeat(100))
    await cache.close()
  })
})
