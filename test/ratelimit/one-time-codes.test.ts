import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidOptionError, RateLimitedError } from '../../src/errors.js'
import { MemoryStore } from '../../src/index.js'
import {
  createOneTimeCodes,
  type ProtectionStore,
  scriptRunnerFromClient,
} from '../../src/ratelimit/index.js'
import { type Client, hasRedis, useRedis } from '../support/ratelimit.js'

const SECRET = 'test-secret-of-at-least-16-bytes'
let n = 0
const subject = () => `staff-${process.pid}-${Date.now()}-${n++}`
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

function scenarios(store: () => ProtectionStore) {
  it('a code verifies once, then never again', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, store: store(), ttl: '5m', digits: 6, maxAttempts: 5 })
    const s = subject()
    const code = await otp.issue(s)
    expect(code).toMatch(/^\d{6}$/)
    expect(await otp.verify(s, code)).toBe(true)
    expect(await otp.verify(s, code)).toBe(false)
  })

  it('two concurrent verifies of the right code: exactly one true', async () => {
    for (let round = 0; round < 20; round++) {
      const otp = createOneTimeCodes({ store: store(), secret: SECRET })
      const s = subject()
      const code = await otp.issue(s)
      const results = await Promise.all([otp.verify(s, code), otp.verify(s, code)])
      expect(results.filter(Boolean)).toHaveLength(1)
    }
  })

  it('maxAttempts wrong tries, then even the right code is refused', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, store: store(), maxAttempts: 3 })
    const s = subject()
    const code = await otp.issue(s)
    const tries = await Promise.all(Array.from({ length: 10 }, () => otp.verify(s, wrong(code))))
    expect(tries.every((t) => t === false)).toBe(true)
    expect(await otp.verify(s, code)).toBe(false)
  })

  it('a new code replaces the old one; resend cooldown refuses with RateLimitedError', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, store: store(), resendCooldown: '1m' })
    const s = subject()
    await otp.issue(s)
    const error = await otp.issue(s).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitedError)
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(59_000)
    const fresh = createOneTimeCodes({ secret: SECRET, store: store() })
    const old = await fresh.issue(s)
    const next = await fresh.issue(s)
    if (old !== next) expect(await fresh.verify(s, old)).toBe(false)
    expect(await fresh.verify(s, next)).toBe(true)
  })

  it('malformed codes are wrong tries, not errors', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, store: store(), maxAttempts: 2 })
    const s = subject()
    const code = await otp.issue(s)
    expect(await otp.verify(s, `${code}0`)).toBe(false)
    expect(await otp.verify(s, 123456 as unknown as string)).toBe(false)
    expect(await otp.verify(s, code)).toBe(false)
  })
}

describe('one-time codes on the memory store', () => {
  scenarios(() => new MemoryStore())

  it('expire after their TTL', async () => {
    const clock = { t: 1_700_000_000_000, now: () => clock.t }
    const otp = createOneTimeCodes({ secret: SECRET, store: new MemoryStore({ clock }), clock, ttl: '5m' })
    const code = await otp.issue('a')
    clock.t += 5 * 60_000
    expect(await otp.verify('a', code)).toBe(false)
  })

  it('the store never holds the code', async () => {
    const store = new MemoryStore()
    const otp = createOneTimeCodes({ store, secret: SECRET })
    const code = await otp.issue('someone')
    const record = store.get('cachekit:otp:{7:default7:someone}')
    expect(JSON.stringify(record)).not.toContain(code)
    expect((record as { hash: string }).hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('codes come from the whole space', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, digits: 4 })
    const seen = new Set<string>()
    for (let i = 0; i < 300; i++) seen.add(await otp.issue(`s${i}`))
    expect(seen.size).toBeGreaterThan(250)
  })

  it('rejects bad options and subjects', async () => {
    expect(() => createOneTimeCodes({ secret: SECRET, digits: 3 })).toThrow(InvalidOptionError)
    expect(() => createOneTimeCodes({ secret: SECRET, maxAttempts: 0 })).toThrow(InvalidOptionError)
    await expect(createOneTimeCodes({ secret: SECRET }).issue('')).rejects.toBeInstanceOf(InvalidOptionError)
  })
})

describe.skipIf(!hasRedis)('one-time codes on Redis', () => {
  const redis = useRedis()
  let client: Client
  let store: ProtectionStore
  beforeAll(async () => {
    client = await redis.client()
    store = scriptRunnerFromClient(client)
  })
  scenarios(() => store)

  it('expire after their TTL (server clock)', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, store, ttl: 150 })
    const s = subject()
    const code = await otp.issue(s)
    await new Promise((r) => setTimeout(r, 200))
    expect(await otp.verify(s, code)).toBe(false)
  })

  it('the store never holds the code', async () => {
    const otp = createOneTimeCodes({ secret: SECRET, store })
    const s = subject()
    const code = await otp.issue(s)
    const fields = await client.hGetAll(`cachekit:otp:{7:default${s.length}:${s}}`)
    expect(fields['h']).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(fields)).not.toContain(code)
  })
})
