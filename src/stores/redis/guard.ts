import { CacheClosedError, CacheError, StoreUnavailableError } from '../../errors.js'
import { scrubber } from '../../internal/redact.js'
import { CircuitBreaker } from './breaker.js'
import { Deadlines, DeadlineTimeoutError } from './deadline.js'
import type { RedisDriver } from './driver.js'
import type { RedisLogEvent, ResolvedOptions } from './options.js'

/** Server replies that mean "not now" rather than "wrong call": they count as unavailability. */
const TRANSIENT = /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOAUTH|WRONGPASS|NOPERM|BUSY|OOM)\b/

/** Returned by a fallback to say "rethrow even under onError: 'ignore'". */
export const RETHROW: unique symbol = Symbol('rethrow')

export interface GuardCounters {
  /** Calls that failed because Redis was unreachable, slow, or the circuit was open. */
  errors: number
  /** Of those, the ones answered by the fallback under `onError: 'ignore'`. */
  ignored: number
  timeouts: number
  /** Calls refused at once by the open circuit. */
  shortCircuited: number
}

/**
 * Every call to Redis passes through here: the connection must be ready (or become ready within
 * the deadline while the first connection is being made), the circuit must be closed, the reply
 * must come within the deadline. Failures become {@link StoreUnavailableError}; under
 * `onError: 'ignore'` they resolve to the operation's fallback instead. Trouble is logged once per
 * burst, and recovery once.
 */
export class Guard {
  readonly counters: GuardCounters = { errors: 0, ignored: 0, timeouts: 0, shortCircuited: 0 }
  readonly deadlines: Deadlines
  /**
   * The wait for the very first connection (loading the client library, TCP, AUTH): up to the
   * connect timeout, capped at 1 s, so calls made right at startup do not fail needlessly. A
   * refused connection ends it at once.
   */
  readonly startup: Deadlines
  readonly breaker: CircuitBreaker | undefined
  driver: RedisDriver | undefined
  /** Pending while the first connection is being made; undefined after it succeeded or failed once. */
  initial: Promise<void> | undefined
  closed = false
  readonly #options: ResolvedOptions
  #burst = 0

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.deadlines = new Deadlines(options.timeout)
    this.startup = new Deadlines(Math.max(options.timeout, Math.min(options.connectTimeout, 1000)))
    this.breaker = options.breaker === false ? undefined : new CircuitBreaker(options.breaker)
  }

  /**
   * Runs `run` against the driver under the deadline and breaker. `fallback` answers instead of an
   * unavailability error under `onError: 'ignore'`.
   */
  call<T>(run: (driver: RedisDriver) => Promise<T>, fallback: NoInfer<T> | typeof RETHROW): Promise<T> {
    if (this.closed)
      return Promise.reject(new CacheClosedError('This Redis store was closed; create a new one'))
    const driver = this.driver
    if (driver === undefined || !driver.ready) {
      if (this.initial !== undefined) {
        return this.startup.run(this.initial).then(
          () => this.call(run, fallback),
          (error: unknown) => this.#unavailable(error, fallback, false),
        )
      }
      return this.#unavailable(new Error('not connected'), fallback, true)
    }
    const breaker = this.breaker
    if (breaker !== undefined && !breaker.allow()) {
      this.counters.shortCircuited++
      return this.#unavailable(new Error('circuit open after repeated failures'), fallback, false)
    }
    let promise: Promise<T>
    try {
      promise = run(driver)
    } catch (error) {
      promise = Promise.reject(error)
    }
    return this.deadlines.run(promise).then(
      (value) => {
        if (breaker !== undefined) breaker.success()
        if (this.#burst > 0) this.#recovered()
        return value
      },
      (error: unknown) => {
        if (driver.isServerError(error) && !TRANSIENT.test((error as Error).message)) {
          breaker?.success()
          throw error
        }
        if (error instanceof CacheError) throw error
        breaker?.failure()
        if (error instanceof DeadlineTimeoutError) this.counters.timeouts++
        return this.#unavailable(error, fallback, true)
      },
    )
  }

  /** Called when the driver reports a live connection. */
  connected(): void {
    this.breaker?.success()
    if (this.#burst > 0) this.#recovered()
  }

  log(event: RedisLogEvent): void {
    try {
      this.#options.onLog({ ...event, message: this.scrub(event.message) })
    } catch {}
  }

  /** Removes passwords from text that may be shown or logged. */
  scrub(text: string): string {
    this.#scrub ??= scrubber(this.#options.secrets)
    return this.#scrub(text)
  }

  #scrub: ((text: string) => string) | undefined

  #unavailable<T>(cause: unknown, fallback: T | typeof RETHROW, count: boolean): Promise<T> {
    if (this.closed)
      return Promise.reject(new CacheClosedError('This Redis store was closed; create a new one'))
    this.counters.errors++
    const reason = this.scrub(cause instanceof Error ? cause.message : String(cause))
    if (this.#burst++ === 0 && count) {
      this.log({
        level: 'warn',
        message: `Redis unavailable (${reason}); further failures are counted, not logged, until it recovers`,
      })
    }
    if (this.#options.onError === 'ignore' && fallback !== RETHROW) {
      this.counters.ignored++
      return Promise.resolve(fallback)
    }
    return Promise.reject(
      new StoreUnavailableError(`Redis is unavailable: ${reason}`, {
        cause: cause instanceof Error ? scrubError(cause, this) : undefined,
      }),
    )
  }

  #recovered(): void {
    const failed = this.#burst
    this.#burst = 0
    this.log({ level: 'info', message: `Redis is available again after ${failed} failed calls` })
  }
}

/** The error with any password removed from its message (connection errors rarely hold one). */
function scrubError(error: Error, guard: Guard): Error {
  const clean = guard.scrub(error.message)
  if (clean !== error.message) error.message = clean
  return error
}
