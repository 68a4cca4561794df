import { CacheClosedError, CacheError, StoreUnavailableError } from '../../errors.js'
import {
  absorbs,
  type CallGuard,
  Deadlines,
  DeadlineTimeoutError,
  type Fallback,
  scrubber,
} from '../../internal/index.js'
import { BurstLog, publishDegraded } from '../../observe/index.js'
import { CircuitBreaker } from './breaker.js'
import type { RedisDriver } from './driver.js'
import { FirstConnection } from './first-connection.js'
import type { RedisLogEvent, RedisStoreState, ResolvedOptions } from './options.js'

/** Server replies that mean "not now" rather than "wrong call": they count as unavailability. */
const TRANSIENT = /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOAUTH|WRONGPASS|NOPERM|BUSY|OOM)\b/

export interface GuardCounters {
  /** Calls that failed because Redis was unreachable, slow, or the circuit was open. */
  errors: number
  /** Of those, the ones answered by the fallback under `onError: 'ignore'`. */
  ignored: number
  timeouts: number
  /** Calls refused at once by the open circuit. */
  shortCircuited: number
  /** Calls that had to wait for the first connection before they were served. */
  startupWaits: number
  /** Degraded answers, each counted once: ignored errors, startup waits, open-circuit refusals. */
  degraded: number
}

/** How long `close()` lets calls it already accepted finish. */
const DRAIN_MS = 1000

function closedError(): CacheClosedError {
  return new CacheClosedError('This Redis store was closed; create a new one')
}

/**
 * Every call to Redis passes through here, and the store's lifecycle with it: the connection must
 * be ready (or become ready while the first connection is being made, waited for once), the
 * circuit must be closed, the reply must come within the deadline. Failures become
 * {@link StoreUnavailableError}; under `onError: 'ignore'` they resolve to the operation's fallback.
 * Every degraded answer is counted, published on `cachekit:degraded` and logged once per burst.
 */
export class Guard implements CallGuard<RedisDriver> {
  readonly counters: GuardCounters = {
    errors: 0,
    ignored: 0,
    timeouts: 0,
    shortCircuited: 0,
    startupWaits: 0,
    degraded: 0,
  }
  readonly deadlines: Deadlines
  readonly breaker: CircuitBreaker | undefined
  driver: RedisDriver | undefined
  #phase: 'open' | 'closing' | 'closed' = 'open'
  /** Set once close() stops waiting for accepted calls: whatever is still pending fails. */
  #cut = false
  readonly #startup: FirstConnection
  #lastError = ''
  #inflight = 0
  #drained: (() => void) | undefined
  readonly #readyWaiters = new Set<(error?: Error) => void>()
  readonly #health: ((healthy: boolean) => void)[] = []
  /** When node-redis's current reconnect sleep ends (a timer close() must outlive). */
  #sleepUntil = 0
  readonly #failures: BurstLog
  readonly #options: ResolvedOptions

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.deadlines = new Deadlines(options.timeout)
    this.breaker = options.breaker === false ? undefined : new CircuitBreaker(options.breaker)
    if (this.breaker) {
      this.breaker.onChange = (state) => {
        if (state === 'half-open') return
        for (const listener of this.#health) listener(state === 'closed')
      }
    }
    this.#failures = new BurstLog((event) => this.log(event))
    this.#startup = new FirstConnection(options.connectTimeout, (error, waited) =>
      this.#startupEnded(error, waited),
    )
  }

  /** Starts the clock on the first connection (see {@link FirstConnection.begin}). */
  begin(): void {
    this.#startup.begin()
  }

  get state(): RedisStoreState {
    if (this.#phase !== 'open') return this.#phase
    if (this.#startup.pending) return 'connecting'
    if (this.driver?.ready === true && (this.breaker?.state ?? 'closed') === 'closed') return 'ready'
    return 'degraded'
  }

  /** True once close() began: no new call is accepted. */
  get closed(): boolean {
    return this.#phase !== 'open'
  }

  /** False while the circuit is open (the server failed or hung): pub/sub there may lose messages. */
  get healthy(): boolean {
    return (this.breaker?.state ?? 'closed') === 'closed'
  }

  /** Calls `listener` when {@link healthy} changes. */
  onHealth(listener: (healthy: boolean) => void): void {
    this.#health.push(listener)
  }

  /** True while the first connection is still being made. */
  get starting(): boolean {
    return this.#startup.pending
  }

  /**
   * Runs `run` against the driver under the deadline and breaker. `fallback` answers instead of an
   * unavailability error under `onError: 'ignore'`; `op` names the operation in events.
   */
  call<T>(op: string, run: (driver: RedisDriver) => Promise<T>, fallback: NoInfer<Fallback<T>>): Promise<T> {
    if (this.#phase !== 'open') return Promise.reject(closedError())
    return this.#attempt(op, run, fallback, undefined)
  }

  /**
   * {@link call} for a command whose reply the store turns into its answer with `map` (nil into
   * a miss, a count into a boolean): the mapping runs in the guard's own reaction, no promise of
   * its own. A `map` that throws fails the call with that error.
   */
  command<R, T>(
    op: string,
    run: (driver: RedisDriver) => Promise<R>,
    map: (reply: R) => T,
    fallback: NoInfer<Fallback<T>>,
  ): Promise<T> {
    if (this.#phase !== 'open') return Promise.reject(closedError())
    return this.#attempt(op, run, fallback, map)
  }

  /** Without `map`, the reply is the answer (`R` is `T`). */
  #attempt<R, T>(
    op: string,
    run: (driver: RedisDriver) => Promise<R>,
    fallback: Fallback<T>,
    map: ((reply: R) => T) | undefined,
  ): Promise<T> {
    if (this.#phase === 'closed') return Promise.reject(closedError())
    const driver = this.driver
    if (driver === undefined || !driver.ready) {
      const startup = this.#startup.promise
      if (startup !== undefined) {
        // Waited for once: the startup promise settles at connectTimeout at the latest.
        this.#startup.waiting++
        return this.#track(
          startup.then(
            () => {
              this.counters.startupWaits++
              this.#degraded('startup-wait', op, 'waited for the first connection')
              return this.#attempt(op, run, fallback, map)
            },
            (error: unknown) => this.#unavailable(op, error, fallback),
          ),
        )
      }
      const reason = this.#lastError ? `not connected (${this.#lastError})` : 'not connected'
      return this.#unavailable(op, new Error(reason), fallback)
    }
    const breaker = this.breaker
    if (breaker !== undefined && !breaker.allow()) {
      this.counters.shortCircuited++
      return this.#unavailable(
        op,
        new Error('circuit open after repeated failures'),
        fallback,
        'circuit-open',
      )
    }
    let promise: Promise<R>
    try {
      promise = run(driver)
    } catch (error) {
      promise = Promise.reject(error)
    }
    // One promise per call: the deadline, the breaker and the drain count settle it directly,
    // instead of a deadline promise, a guard promise and a tracking reaction around the reply.
    this.#inflight++
    return new Promise<T>((resolve, reject) => {
      const fail = (error: unknown): void => {
        deadline.done()
        this.#settledOne()
        if (driver.isServerError(error) && !TRANSIENT.test((error as Error).message)) {
          breaker?.success()
          reject(error)
          return
        }
        if (error instanceof CacheError) {
          reject(error)
          return
        }
        breaker?.failure()
        if (error instanceof DeadlineTimeoutError) this.counters.timeouts++
        this.#unavailable(op, error, fallback).then(resolve, reject)
      }
      const deadline = this.deadlines.watch(fail)
      promise.then(
        (value) => {
          if (deadline.settled) return
          deadline.done()
          this.#settledOne()
          if (breaker !== undefined) breaker.success()
          this.#recovered()
          if (map === undefined) resolve(value as unknown as T)
          else {
            try {
              resolve(map(value))
            } catch (error) {
              reject(error)
            }
          }
        },
        (error: unknown) => {
          if (!deadline.settled) fail(error)
        },
      )
    })
  }

  /** Called when the driver reports a live connection. */
  connected(): void {
    if (this.#cut) return
    this.#startup.end(undefined)
    this.breaker?.success()
    this.#recovered()
    for (const wake of this.#readyWaiters) wake()
  }

  /** Called when the driver reports a failure; a refused first attempt ends the startup wait at once. */
  down(error: unknown): void {
    if (this.#cut) return
    this.#lastError = this.scrub(error instanceof Error ? error.message : String(error))
    this.#startup.end(error instanceof Error ? error : new Error(this.#lastError))
  }

  /** Called with node-redis's backoff delay before a reconnection attempt. */
  sleeping(ms: number): void {
    this.#sleepUntil = Math.max(this.#sleepUntil, performance.now() + ms)
  }

  /**
   * Resolves once connected; rejects with {@link StoreUnavailableError} when no connection comes
   * within `connectTimeout` (from now), or with `CacheClosedError` once the store is closing.
   */
  ready(): Promise<void> {
    if (this.#phase !== 'open') return Promise.reject(closedError())
    if (this.driver?.ready === true) return Promise.resolve()
    const ms = this.#options.connectTimeout
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer)
        this.#readyWaiters.delete(done)
        if (error) reject(error)
        else resolve()
      }
      const timer = setTimeout(() => {
        const why = this.#lastError ? `: ${this.#lastError}` : ''
        done(new StoreUnavailableError(`Redis did not become ready within ${ms} ms (connectTimeout)${why}`))
      }, ms)
      timer.unref()
      this.#readyWaiters.add(done)
    })
  }

  /**
   * Closing, part one: refuses new calls, then gives the calls already accepted (writes, lease
   * releases, invalidations in flight, calls waiting for the first connection) up to
   * {@link DRAIN_MS} to finish, then fails whatever is left with `CacheClosedError`.
   */
  async drain(): Promise<void> {
    this.#phase = 'closing'
    for (const wake of this.#readyWaiters) wake(closedError())
    if (this.#inflight > 0) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#drained = resolve
        timer = setTimeout(resolve, DRAIN_MS)
      })
      clearTimeout(timer)
      this.#drained = undefined
    }
    this.#cut = true
    this.#startup.end(closedError())
    this.deadlines.failAll(closedError())
  }

  /** close() is over. */
  finish(): void {
    this.#phase = 'closed'
  }

  /** Closing, last part: waits out node-redis's reconnect sleep when it ends within `budgetMs`. */
  async settle(budgetMs: number): Promise<void> {
    const left = this.#sleepUntil - performance.now()
    if (left > 0 && left <= budgetMs) await new Promise((resolve) => setTimeout(resolve, left + 5))
    // A destroyed socket's handle closes on a later turn of the event loop: let it.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
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

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inflight++
    const done = () => this.#settledOne()
    promise.then(done, done)
    return promise
  }

  /** One accepted call is over: the last one lets a waiting `drain()` go on. */
  #settledOne(): void {
    if (--this.#inflight === 0) this.#drained?.()
  }

  #startupEnded(error: Error | undefined, waited: number): void {
    if (error !== undefined && !(error instanceof CacheClosedError)) {
      this.#lastError ||= this.scrub(error.message)
      // A first attempt that failed or never completed its handshake counts like any failure.
      this.breaker?.trip()
      this.#failures.failure(
        `Redis unavailable at startup (${this.scrub(error.message)}); calls fail fast until it connects`,
      )
    }
    if (error === undefined && waited > 0) {
      this.log({ level: 'info', message: `${waited} calls waited for the first Redis connection` })
    }
  }

  #degraded(kind: string, operation: string, reason: string): void {
    this.counters.degraded++
    publishDegraded({ source: 'redis', kind, operation, reason })
  }

  /**
   * A call Redis could not answer. A refusal by the open circuit is a degraded answer whatever the
   * policy (`circuit-open`); any other failure is one only when `onError: 'ignore'` answers it with
   * the fallback (`ignored-error`). Each answer is published once.
   */
  #unavailable<T>(op: string, cause: unknown, fallback: Fallback<T>, kind?: 'circuit-open'): Promise<T> {
    if (this.#cut) return Promise.reject(closedError())
    this.counters.errors++
    const reason = this.scrub(cause instanceof Error ? cause.message : String(cause))
    this.#failures.failure(
      `Redis unavailable (${reason}); further failures are counted, not logged, until it recovers`,
    )
    const ignore = absorbs(this.#options.onError, fallback)
    if (kind !== undefined || ignore) this.#degraded(kind ?? 'ignored-error', op, reason)
    if (ignore) {
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
    this.#failures.recovered((failed) => `Redis is available again after ${failed} failed calls`)
  }
}

/** The error with any password removed from its message (connection errors rarely hold one). */
function scrubError(error: Error, guard: Guard): Error {
  const clean = guard.scrub(error.message)
  if (clean !== error.message) error.message = clean
  return error
}
