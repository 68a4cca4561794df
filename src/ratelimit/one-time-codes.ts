import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import { InvalidOptionError, RateLimitedError } from '../errors.js'
import { type Clock, systemClock } from '../internal/clock.js'
import { type Duration, describe, requireDuration } from '../internal/duration.js'
import { resolveBacking } from './backend.js'
import { withDeadline } from './deadline.js'
import type { ProtectionStore } from './limiter.js'
import { MemoryOtpBackend, type OtpBackend, RedisOtpBackend } from './otp-backend.js'

export interface OneTimeCodesOptions {
  readonly store?: ProtectionStore
  /** How long a code lives. Default `'5m'`. */
  readonly ttl?: Duration
  /** Digits per code, 4 to 10. Default 6. */
  readonly digits?: number
  /** Wrong tries allowed per code; after that even the right code is refused. Default 5. */
  readonly maxAttempts?: number
  /** The shortest time between two codes for one subject. Default 0. */
  readonly resendCooldown?: Duration
  /**
   * Codes are stored as HMAC-SHA256 under this secret; without one, as SHA-256 with a random salt
   * per code. Either way the store never holds a code.
   */
  readonly secret?: string | Buffer
  readonly prefix?: string
  readonly timeout?: Duration
  readonly clock?: Clock
}

export interface OneTimeCodes {
  /**
   * A new code for `subject` (replacing any previous one). Rejects with {@link RateLimitedError}
   * (`retryAfterMs`) inside the resend cooldown.
   */
  issue(subject: string): Promise<string>
  /** True once for the right code inside its TTL and attempt limit; false otherwise. */
  verify(subject: string, code: string): Promise<boolean>
  /** Forgets the subject's code. */
  revoke(subject: string): Promise<void>
}

function checkSubject(subject: unknown): string {
  if (typeof subject !== 'string' || subject === '' || subject.length > 1024) {
    throw new InvalidOptionError(
      `A one-time code subject must be a non-empty string, got ${describe(subject)}`,
    )
  }
  return subject
}

/** Creates one-time codes: CSPRNG digits, stored hashed, single use decided atomically. */
export function createOneTimeCodes(options: OneTimeCodesOptions = {}): OneTimeCodes {
  const ttlMs = Math.max(1, requireDuration(options.ttl ?? '5m', 'ttl'))
  const digits = options.digits ?? 6
  if (!Number.isInteger(digits) || digits < 4 || digits > 10) {
    throw new InvalidOptionError(
      `createOneTimeCodes digits must be a whole number from 4 to 10, got ${describe(digits)}`,
    )
  }
  const maxAttempts = options.maxAttempts ?? 5
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidOptionError(
      `createOneTimeCodes maxAttempts must be a whole number >= 1, got ${describe(maxAttempts)}`,
    )
  }
  const cooldownMs = requireDuration(options.resendCooldown ?? 0, 'resendCooldown')
  const secret = options.secret
  if (
    (secret !== undefined && !(typeof secret === 'string' || Buffer.isBuffer(secret))) ||
    secret?.length === 0
  ) {
    throw new InvalidOptionError('createOneTimeCodes secret must be a non-empty string or Buffer')
  }
  const clock = options.clock ?? systemClock
  const backing = resolveBacking(options.store, 'createOneTimeCodes', clock)
  const backend: OtpBackend =
    backing.kind === 'redis' ? new RedisOtpBackend(backing.runner) : new MemoryOtpBackend(backing.map, clock)
  const prefix = options.prefix ?? 'cachekit:otp'
  const timeoutMs = requireDuration(options.timeout ?? 500, 'timeout')
  const space = 10 ** digits

  const keyOf = (subject: string) => `${prefix}:{${checkSubject(subject)}}`
  const digest = (subject: string, code: string, salt: string): Buffer =>
    secret === undefined
      ? createHash('sha256').update(salt).update('\0').update(code).digest()
      : createHmac('sha256', secret).update(subject).update('\0').update(code).digest()
  const matches = (subject: string, code: unknown, hash: string, salt: string): boolean => {
    const expected = Buffer.from(hash, 'hex')
    const candidate = digest(subject, typeof code === 'string' ? code : '', salt)
    // Hash the candidate whatever its shape, so a malformed code takes as long as a wrong one.
    const equal = expected.length === candidate.length && timingSafeEqual(expected, candidate)
    return equal && typeof code === 'string' && code.length === digits
  }
  const deadline = <T>(work: Promise<T>, what: string) =>
    withDeadline(work, timeoutMs, `one-time code ${what}`)

  return {
    async issue(subject) {
      const key = keyOf(subject)
      const code = String(randomInt(0, space)).padStart(digits, '0')
      const salt = secret === undefined ? randomBytes(16).toString('hex') : ''
      const record = {
        hash: digest(subject, code, salt).toString('hex'),
        salt,
        nonce: randomBytes(12).toString('hex'),
      }
      const wait = await deadline(backend.issue(key, record, ttlMs, cooldownMs), 'issue')
      if (wait > 0) {
        throw new RateLimitedError(
          `A one-time code was sent less than ${cooldownMs} ms ago; retry in ${wait} ms`,
          {
            key: subject,
            retryAfterMs: wait,
          },
        )
      }
      return code
    },
    async verify(subject, code) {
      const key = keyOf(subject)
      if (backend instanceof MemoryOtpBackend) {
        // In process: read, compare and settle without yielding, so nothing interleaves.
        const record = backend.readNow(key)
        if (record === undefined || record.attempts >= maxAttempts) return false
        const ok = matches(subject, code, record.hash, record.salt)
        return backend.settleNow(key, record.nonce, ok, maxAttempts) === 'accepted'
      }
      const record = await deadline(backend.read(key), 'verify')
      if (record === undefined || record.attempts >= maxAttempts) return false
      const ok = matches(subject, code, record.hash, record.salt)
      // The settle script re-checks the nonce and attempt count: of two racing right answers, one wins.
      return (await deadline(backend.settle(key, record.nonce, ok, maxAttempts), 'verify')) === 'accepted'
    },
    async revoke(subject) {
      await deadline(backend.revoke(keyOf(subject)), 'revoke')
    },
  }
}
