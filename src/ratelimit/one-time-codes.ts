import { createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import { CacheClosedError, InvalidOptionError, RateLimitedError } from '../errors.js'
import { type Clock, type Duration, describe, systemClock, wholeMs } from '../internal/index.js'
import { publishOneTimeCode } from '../observe/index.js'
import { resolveBacking } from './backend.js'
import { withDeadline } from './deadline.js'
import { SecretRequiredError } from './errors.js'
import type { ProtectionStore } from './limiter.js'
import { MemoryOtpBackend, type OtpBackend, type OtpSettle, RedisOtpBackend } from './otp-backend.js'
import { MAX_RULE_MS } from './rules.js'

/** Options of `createOneTimeCodes`: store, lifetime, code length, attempts and the secret. */
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
   * Required: a server-side secret of at least 16 bytes (e.g. `openssl rand -base64 32` in an
   * environment variable), or an app key the code key is derived from (HKDF-SHA256, bound to
   * `prefix`). Codes are stored as HMAC-SHA256 under it, so someone who can read the store cannot
   * recover a code by trying all 10^digits of them. Missing: {@link SecretRequiredError}.
   */
  readonly secret: string | Buffer
  /** The purpose codes are issued for unless a call names one (`'login'`, `'reset'`). Default `'default'`. */
  readonly purpose?: string
  readonly prefix?: string
  readonly timeout?: Duration
  readonly clock?: Clock
}

/** A code's purpose: a code issued for `'login'` never verifies for `'reset'`. */
export interface CodePurpose {
  readonly purpose?: string
}

/** One-time codes (PINs) that expire and work once: `issue`, then `verify` at most a few times. */
export interface OneTimeCodes {
  /**
   * A new code for `subject` and purpose (replacing any previous one of that purpose). Rejects with
   * {@link RateLimitedError} (`retryAfterMs`) inside the resend cooldown.
   */
  issue(subject: string, options?: CodePurpose): Promise<string>
  /** True once for the right code of this purpose inside its TTL and attempt limit; false otherwise. */
  verify(subject: string, code: string, options?: CodePurpose): Promise<boolean>
  /** Forgets the subject's code of this purpose. */
  revoke(subject: string, options?: CodePurpose): Promise<void>
  /** Later calls reject with `CacheClosedError`; the store stays open. Settles at once. Idempotent. */
  close(): Promise<void>
}

const MIN_SECRET_BYTES = 16

function checkSubject(subject: unknown): string {
  if (typeof subject !== 'string' || subject === '' || subject.length > 1024) {
    throw new InvalidOptionError(
      `A one-time code subject must be a non-empty string, got ${describe(subject)}`,
    )
  }
  return subject
}

function checkPurpose(purpose: unknown): string {
  if (typeof purpose !== 'string' || purpose === '' || purpose.length > 100) {
    throw new InvalidOptionError(
      `A one-time code purpose must be a non-empty string of at most 100 characters, got ${describe(purpose)}`,
    )
  }
  return purpose
}

/** The HMAC key: HKDF of the configured secret, so one app key can serve several features safely. */
function codeKey(secret: unknown, prefix: string): Buffer {
  if (secret === undefined || secret === null || secret === '') {
    throw new SecretRequiredError(
      'createOneTimeCodes needs a server-side secret: pass { secret: process.env.OTP_SECRET } with at least 16 random bytes (e.g. the output of `openssl rand -base64 32`); without it a code read from the store can be recovered by trying every code',
    )
  }
  if (!(typeof secret === 'string' || Buffer.isBuffer(secret))) {
    throw new InvalidOptionError('createOneTimeCodes secret must be a string or Buffer')
  }
  const bytes = Buffer.from(secret)
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new SecretRequiredError(
      `createOneTimeCodes secret is ${bytes.length} bytes: use at least ${MIN_SECRET_BYTES} random bytes (e.g. \`openssl rand -base64 32\`)`,
    )
  }
  return Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), `cachekit one-time codes:${prefix}`, 32))
}

/** Length-prefixed, so no (purpose, subject) pair can be spelt as another. */
const framed = (...parts: string[]) => parts.map((p) => `${p.length}:${p}`).join('')

/**
 * Creates one-time codes: CSPRNG digits, stored as an HMAC under a server-side secret, bound to
 * their purpose, single use decided atomically. Throws {@link SecretRequiredError} without a secret.
 */
export function createOneTimeCodes(options: OneTimeCodesOptions): OneTimeCodes {
  if (options === null || typeof options !== 'object') {
    throw new SecretRequiredError(
      'createOneTimeCodes needs options with a server-side secret: createOneTimeCodes({ secret: process.env.OTP_SECRET })',
    )
  }
  const prefix = options.prefix ?? 'cachekit:otp'
  if (typeof prefix !== 'string') throw new InvalidOptionError('createOneTimeCodes prefix must be a string')
  const key = codeKey(options.secret, prefix)
  const defaultPurpose = checkPurpose(options.purpose ?? 'default')
  const ttlMs = wholeMs(options.ttl, '5m', 'createOneTimeCodes ttl', { min: 1, max: MAX_RULE_MS })
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
  const cooldownMs = wholeMs(options.resendCooldown, 0, 'createOneTimeCodes resendCooldown', {
    max: MAX_RULE_MS,
  })
  const clock = options.clock ?? systemClock
  const backing = resolveBacking(options.store, 'createOneTimeCodes', clock)
  const backend: OtpBackend =
    backing.kind === 'redis' ? new RedisOtpBackend(backing.runner) : new MemoryOtpBackend(backing.map, clock)
  const timeoutMs = wholeMs(options.timeout, 500, 'createOneTimeCodes timeout', { min: 1 })
  const space = 10 ** digits
  let closed = false

  const purposeOf = (o: CodePurpose | undefined) =>
    o?.purpose === undefined ? defaultPurpose : checkPurpose(o.purpose)
  const keyOf = (subject: string, purpose: string) => {
    if (closed) throw new CacheClosedError('These one-time codes were closed; create new ones')
    return `${prefix}:{${framed(purpose, checkSubject(subject))}}`
  }
  // The purpose and subject are inside the MAC: a record copied to another key verifies nowhere.
  const digest = (subject: string, purpose: string, code: string, nonce: string): Buffer =>
    createHmac('sha256', key)
      .update(framed(purpose, subject, nonce, code))
      .digest()
  const matches = (subject: string, purpose: string, code: unknown, hash: string, nonce: string): boolean => {
    const expected = Buffer.from(hash, 'hex')
    const candidate = digest(subject, purpose, typeof code === 'string' ? code : '', nonce)
    // Hash the candidate whatever its shape, so a malformed code takes as long as a wrong one.
    const equal = expected.length === candidate.length && timingSafeEqual(expected, candidate)
    return equal && typeof code === 'string' && code.length === digits
  }
  const deadline = <T>(work: Promise<T>, what: string) =>
    withDeadline(work, timeoutMs, `one-time code ${what}`)

  return {
    async issue(subject, o) {
      const purpose = purposeOf(o)
      const storeKey = keyOf(subject, purpose)
      const code = String(randomInt(0, space)).padStart(digits, '0')
      const nonce = randomBytes(12).toString('hex')
      const record = { hash: digest(subject, purpose, code, nonce).toString('hex'), salt: '', nonce }
      const wait = await deadline(backend.issue(storeKey, record, ttlMs, cooldownMs), 'issue')
      if (wait > 0) {
        publishOneTimeCode({ prefix, purpose, action: 'cooldown' })
        throw new RateLimitedError(
          `A one-time code was sent less than ${cooldownMs} ms ago; retry in ${wait} ms`,
          {
            key: subject,
            retryAfterMs: wait,
          },
        )
      }
      publishOneTimeCode({ prefix, purpose, action: 'sent' })
      return code
    },
    async verify(subject, code, o) {
      const purpose = purposeOf(o)
      const storeKey = keyOf(subject, purpose)
      const outcome = (settled: OtpSettle | 'missing' | 'attempts'): boolean => {
        if (settled === 'accepted') publishOneTimeCode({ prefix, purpose, action: 'verified' })
        else {
          const reason = settled === 'rejected' ? 'wrong' : settled === 'gone' ? 'missing' : settled
          publishOneTimeCode({ prefix, purpose, action: 'refused', reason })
        }
        return settled === 'accepted'
      }
      if (backend instanceof MemoryOtpBackend) {
        // In process: read, compare and settle without yielding, so nothing interleaves.
        const record = backend.readNow(storeKey)
        if (record === undefined) return outcome('missing')
        if (record.attempts >= maxAttempts) return outcome('attempts')
        const ok = matches(subject, purpose, code, record.hash, record.nonce)
        return outcome(backend.settleNow(storeKey, record.nonce, ok, maxAttempts))
      }
      const record = await deadline(backend.read(storeKey), 'verify')
      if (record === undefined) return outcome('missing')
      if (record.attempts >= maxAttempts) return outcome('attempts')
      const ok = matches(subject, purpose, code, record.hash, record.nonce)
      // The settle script re-checks the nonce and attempt count: of two racing right answers, one wins.
      return outcome(await deadline(backend.settle(storeKey, record.nonce, ok, maxAttempts), 'verify'))
    },
    async revoke(subject, o) {
      await deadline(backend.revoke(keyOf(subject, purposeOf(o))), 'revoke')
    },
    async close() {
      closed = true
    },
  }
}
