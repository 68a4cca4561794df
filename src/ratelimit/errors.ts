import { CacheError } from '../errors.js'

/**
 * A login identity (a username, a lock key) cannot be normalised: it holds a lone UTF-16
 * surrogate, or is not a string. Such input never comes from a real login form; refuse the attempt.
 */
export class InvalidIdentityError extends CacheError {
  static override readonly code = 'E_INVALID_IDENTITY'
}

/**
 * The store given to a rate limiter, login guard or one-time codes cannot hold their state
 * atomically (a SQL store, or a cache or tiers built on one): use a cachekit memory store (one
 * process), the cachekit Redis store (many), a cache built on either, or a script runner.
 */
export class ProtectionStoreUnsupportedError extends CacheError {
  static override readonly code = 'E_PROTECTION_STORE_UNSUPPORTED'
}

/**
 * One-time codes were created without a server-side secret. Without one, a code read from the
 * store can be recovered by trying every possible code, so creation refuses.
 */
export class SecretRequiredError extends CacheError {
  static override readonly code = 'E_SECRET_REQUIRED'
}

/**
 * A rate queue already holds `maxQueue` callers for this key: the API behind it is saturated.
 * Shed the call (answer 503, or retry later) or raise `maxQueue` in `createRateQueue`.
 */
export class RateQueueFullError extends CacheError {
  static override readonly code = 'E_RATE_QUEUE_FULL'
}

/**
 * A caller of a rate queue would wait past its `maxWait` for an allowance: the rule allows fewer
 * calls than are asked. Shed the call, raise `maxWait`, or spread the calls over more time.
 */
export class RateWaitTimeoutError extends CacheError {
  static override readonly code = 'E_RATE_WAIT_TIMEOUT'
}

/**
 * The rate queue was closed (`queue.close()`, at shutdown) while this caller waited, or before it
 * asked: the call never went out. Callers treat it as a cancellation.
 */
export class RateQueueClosedError extends CacheError {
  static override readonly code = 'E_RATE_QUEUE_CLOSED'
}
