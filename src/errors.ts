/**
 * Every failure cachekit reports is a {@link CacheError}: a stable `code` to branch on, the key it
 * concerns (when there is one), the underlying error in `cause`, and a message that says what to do.
 *
 * Expected outcomes (a miss, a refused `add`, a rate limit hit) are return values, never errors.
 */
export class CacheError extends Error {
  static readonly code: string = 'E_CACHE'
  readonly code: string
  /** The key the failing call was about, as the caller wrote it. */
  key: string | undefined

  constructor(message: string, options: { cause?: unknown; key?: string | undefined } = {}) {
    super(
      options.key === undefined ? message : `${message} (key "${options.key}")`,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = new.target.name
    this.code = (new.target as typeof CacheError).code
    this.key = options.key
  }
}

/** A key is not a non-empty string within the documented length. */
export class InvalidKeyError extends CacheError {
  static override readonly code = 'E_INVALID_KEY'
}

/**
 * A `cached()` argument or a `key()` parameter has no key form (a `Map`, `Set`, class instance,
 * function, symbol or circular object): pass a `key` function that builds the key from its id.
 */
export class UnkeyableArgumentError extends CacheError {
  static override readonly code = 'E_UNKEYABLE_ARGUMENT'
}

/** A TTL is neither a non-negative number of milliseconds, a duration string, nor `null`. */
export class InvalidTtlError extends CacheError {
  static override readonly code = 'E_INVALID_TTL'
}

/** An option passed to a factory (`createCache`, `memoryStore`, ...) cannot work. */
export class InvalidOptionError extends CacheError {
  static override readonly code = 'E_INVALID_OPTION'
}

/** A value holds something the codec cannot write losslessly (a function, a class instance, a symbol). */
export class UnencodableValueError extends CacheError {
  static override readonly code = 'E_VALUE_NOT_ENCODABLE'
}

/** A value refers to itself. cachekit refuses circular values so every tier and codec agrees. */
export class CircularValueError extends CacheError {
  static override readonly code = 'E_VALUE_CIRCULAR'
}

/**
 * A caller tried to change a `Date`, `Map` or `Set` read from a memory store with the default
 * `mutation: 'freeze'` policy: those come back read-only (plain objects and arrays come back
 * frozen, and changing them throws the language's own `TypeError` in strict mode). Copy the value
 * first (`new Date(d)`, `new Map(m)`), or use `mutation: 'clone'`.
 */
export class ImmutableValueError extends CacheError {
  static override readonly code = 'E_VALUE_IMMUTABLE'
}

/** Bytes in the store are not a value cachekit wrote (or were written by an incompatible codec). */
export class CorruptValueError extends CacheError {
  static override readonly code = 'E_VALUE_CORRUPT'
}

/** An encoded value is larger than the store's `maxValueBytes`. */
export class ValueTooLargeError extends CacheError {
  static override readonly code = 'E_VALUE_TOO_LARGE'
}

/** `incr`/`decr` met a value that is not an integer, or the result would leave the safe range. */
export class NotAnIntegerError extends CacheError {
  static override readonly code = 'E_NOT_INTEGER'
}

/** The cache (or its store) was closed; create a new one. */
export class CacheClosedError extends CacheError {
  static override readonly code = 'E_CACHE_CLOSED'
}

/** The store does not offer this operation (see its `capabilities`). */
export class UnsupportedOperationError extends CacheError {
  static override readonly code = 'E_UNSUPPORTED'
}

/** A `getOrSet` factory ran past its hard timeout and no stale value could stand in. */
export class FactoryTimeoutError extends CacheError {
  static override readonly code = 'E_FACTORY_TIMEOUT'
}

/** A store could not reach its server within the deadline, or its circuit is open. */
export class StoreUnavailableError extends CacheError {
  static override readonly code = 'E_STORE_UNAVAILABLE'
}

/** Attaches the caller's key to an error raised below the cache, where only the full key is known. */
export function withKey<E>(error: E, key: unknown): E {
  if (error instanceof CacheError && error.key === undefined && typeof key === 'string' && key !== '') {
    error.key = key.length > 100 ? `${key.slice(0, 100)}...` : key
    error.message = `${error.message} (key "${error.key}")`
  }
  return error
}

/** A request-protection refusal that has no result to return it in (e.g. a one-time code resent too soon). */
export class RateLimitedError extends CacheError {
  static override readonly code = 'E_RATE_LIMITED'
  /** How long until the same call could succeed. */
  readonly retryAfterMs: number

  constructor(message: string, options: { cause?: unknown; key?: string | undefined; retryAfterMs: number }) {
    super(message, options)
    this.retryAfterMs = options.retryAfterMs
  }
}
