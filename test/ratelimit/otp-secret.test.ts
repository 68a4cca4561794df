import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/index.js'
import {
  createOneTimeCodes,
  type OneTimeCodesOptions,
  SecretRequiredError,
} from '../../src/ratelimit/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { type Client, hasRedis, useRedis } from '../support/ratelimit.js'

const SECRET = 'a-server-side-secret-from-the-env'

describe('one-time codes need a server-side secret', () => {
  it('without one (or with a short one): a typed error at creation that says what to set', () => {
    for (const options of [
      {},
      { secret: '' },
      { secret: undefined },
      { secret: 'short' },
      { secret: Buffer.alloc(8) },
    ]) {
      let error: unknown
      try {
        createOneTimeCodes(options as OneTimeCodesOptions)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(SecretRequiredError)
      expect((error as SecretRequiredError).code).toBe('E_SECRET_REQUIRED')
      expect((error as Error).message).toMatch(/secret/)
      expect((error as Error).message).toMatch(/16/)
    }
    expect(() => createOneTimeCodes(undefined as unknown as OneTimeCodesOptions)).toThrow(SecretRequiredError)
  })

  it('codes are bound to their purpose', async () => {
    const otp = createOneTimeCodes({ store: new MemoryStore(), secret: SECRET })
    const login = await otp.issue('u1', { purpose: 'login' })
    const reset = await otp.issue('u1', { purpose: 'reset' })
    expect(await otp.verify('u1', login, { purpose: 'reset' })).toBe(login === reset)
    expect(await otp.verify('u1', login, { purpose: 'login' })).toBe(true)
    const bound = createOneTimeCodes({ store: new MemoryStore(), secret: SECRET, purpose: 'email-change' })
    const code = await bound.issue('u2')
    expect(await bound.verify('u2', code, { purpose: 'default' })).toBe(false)
    expect(await bound.verify('u2', code)).toBe(true)
  })

  it('a record copied to another purpose or subject does not verify there', async () => {
    const store = new MemoryStore()
    const otp = createOneTimeCodes({ store, secret: SECRET })
    const code = await otp.issue('victim', { purpose: 'login' })
    // An attacker with store access plants the victim's record under its own subject and purpose.
    const record = store.get('cachekit:otp:{5:login6:victim}')
    expect(record).toBeDefined()
    store.set('cachekit:otp:{5:reset8:attacker}', record, { ttl: 60_000 })
    expect(await otp.verify('attacker', code, { purpose: 'reset' })).toBe(false)
  })

  it('another secret (another deployment) verifies nothing', async () => {
    const store = new MemoryStore()
    const code = await createOneTimeCodes({ store, secret: SECRET }).issue('s')
    expect(await createOneTimeCodes({ store, secret: `${SECRET}-other` }).verify('s', code)).toBe(false)
  })
})

describe.skipIf(!hasRedis)('a stolen Redis entry does not reveal the code', () => {
  const redis = useRedis()
  let client: Client
  let store: RedisStore
  beforeAll(async () => {
    client = await redis.client()
    store = redisStore({ url: redis.server().url })
  })
  afterAll(async () => {
    await store.close()
  })

  it('trying all 10^6 codes against the stored fields finds nothing without the secret', async () => {
    const otp = createOneTimeCodes({ store, secret: SECRET })
    const code = await otp.issue('staff:17', { purpose: 'pin' })
    const fields = await client.hGetAll('cachekit:otp:{3:pin8:staff:17}')
    expect(fields['h']).toMatch(/^[0-9a-f]{64}$/)
    expect(fields['s']).toBe('')
    const stored = fields['h']
    const started = Date.now()
    let found: string | undefined
    // What an attacker would try with the old salted SHA-256, and plain SHA-256 with the nonce.
    for (let i = 0; i < 1_000_000 && found === undefined; i++) {
      const guess = String(i).padStart(6, '0')
      if (createHash('sha256').update(`\0${guess}`).digest('hex') === stored) found = guess
      if (createHash('sha256').update(`${fields['n']}\0${guess}`).digest('hex') === stored) found = guess
    }
    expect(found).toBeUndefined()
    expect(Date.now() - started).toBeGreaterThan(0)
    expect(await otp.verify('staff:17', code, { purpose: 'pin' })).toBe(true)
  }, 60_000)
})
