import { InvalidOptionError } from '../errors.js'
import { type Duration, describe, wholeMs } from '../internal/index.js'
import { RateQueueClosedError, RateQueueFullError, RateWaitTimeoutError } from './errors.js'
import type { RateLimiter } from './limiter-types.js'
import type { RateLimitResult } from './result.js'

/** Options of {@link createRateQueue}: how many callers may wait per key, and for how long. */
export interface RateQueueOptions {
  /** The most callers waiting per key; one more is refused with {@link RateQueueFullError}. Default 1000. */
  readonly maxQueue?: number
  /** The longest a caller waits before {@link RateWaitTimeoutError}. Default `'30s'`. */
  readonly maxWait?: Duration
}

/** Options of one {@link RateQueue.wait}: its weight, its own `maxWait`, and a signal to give up. */
export interface RateWaitOptions {
  /** Weight of the call, as in `consume`. Default 1. */
  readonly cost?: number
  /** Overrides the queue's `maxWait` for this call. */
  readonly maxWait?: Duration
  /** Aborting it takes the caller out of the queue; `wait` rejects with the signal's reason. */
  readonly signal?: AbortSignal
}

/** Waits for allowances of one scope instead of refusing: see {@link createRateQueue}. */
export interface RateQueue {
  /**
   * Resolves with the allowed decision once `key`'s allowance lets this call through, after the
   * calls queued before it for `key` in this process.
   */
  wait(key: string, options?: RateWaitOptions): Promise<RateLimitResult>
  /** Callers waiting for `key`, or for every key when none is given. */
  size(key?: string): number
  /**
   * Stops the queue (at shutdown): every caller still waiting, and every later `wait`, rejects with
   * {@link RateQueueClosedError}, and the retry timers go, so the process can exit. An allowance
   * already won for a caller that is now refused goes back to the limiter (`reward`). Idempotent.
   */
  close(): void
}

interface Waiter {
  readonly cost: number
  readonly waitMs: number
  readonly deadline: number
  readonly resolve: (result: RateLimitResult) => void
  readonly reject: (error: unknown) => void
  settled: boolean
  cleanup?: () => void
}

/** The callers of one key, in arrival order; only the first one asks the limiter. */
interface Line {
  readonly waiters: Waiter[]
  /** The first caller's decision is in flight. */
  busy: boolean
  /** The one timer of the key: the first caller's next try, after the refusal's `retryAfterMs`. */
  retry: ReturnType<typeof setTimeout> | undefined
}

const DEFAULT_MAX_QUEUE = 1000

/**
 * A queue in front of `limiter`'s `scope`, for outgoing calls to a rate-limited API
 * (rate-limiter-flexible's `RateLimiterQueue`): `wait(key)` consumes, and when refused sleeps
 * `retryAfterMs` (one timer per key, no polling) and tries again. The callers of one key are
 * served in arrival order within this process; on a shared store every process's queue draws on
 * the same allowance, so the limit holds across them.
 */
export function createRateQueue<S extends string>(
  limiter: RateLimiter<S>,
  scope: S,
  options: RateQueueOptions = {},
): RateQueue {
  if (limiter === null || typeof limiter !== 'object' || typeof limiter.consume !== 'function') {
    throw new InvalidOptionError(
      'createRateQueue needs a rate limiter: createRateQueue(limiter, scope, options)',
    )
  }
  limiter.policies(scope) // an unknown scope fails here, not at the first wait
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 1) {
    throw new InvalidOptionError(
      `createRateQueue maxQueue must be a whole number >= 1, got ${describe(maxQueue)}`,
    )
  }
  const maxWaitMs = wholeMs(options.maxWait, '30s', 'createRateQueue maxWait', { min: 1 })
  return new Queue(limiter, scope, maxQueue, maxWaitMs)
}

class Queue<S extends string> implements RateQueue {
  readonly #lines = new Map<string, Line>()
  #closed = false

  constructor(
    readonly limiter: RateLimiter<S>,
    readonly scope: S,
    readonly maxQueue: number,
    readonly maxWaitMs: number,
  ) {}

  size(key?: string): number {
    if (key !== undefined) return this.#lines.get(key)?.waiters.length ?? 0
    let n = 0
    for (const line of this.#lines.values()) n += line.waiters.length
    return n
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    const lines = [...this.#lines]
    this.#lines.clear()
    for (const [key, line] of lines) {
      clearTimeout(line.retry)
      line.retry = undefined
      for (const waiter of line.waiters.splice(0)) {
        if (this.#settle(waiter)) waiter.reject(this.#closedError(key))
      }
    }
  }

  #closedError(key: string): RateQueueClosedError {
    return new RateQueueClosedError(
      `Rate queue for scope "${this.scope}" is closed: the call did not go out`,
      { key },
    )
  }

  wait(key: string, options: RateWaitOptions = {}): Promise<RateLimitResult> {
    const { signal } = options
    if (this.#closed) return Promise.reject(this.#closedError(key))
    if (signal?.aborted) return Promise.reject(signal.reason)
    const waitMs =
      options.maxWait === undefined
        ? this.maxWaitMs
        : wholeMs(options.maxWait, 0, 'rate queue maxWait', { min: 1 })
    let line = this.#lines.get(key)
    if (line && line.waiters.length >= this.maxQueue) {
      return Promise.reject(
        new RateQueueFullError(
          `Rate queue for scope "${this.scope}" already holds ${this.maxQueue} callers: shed this call or raise maxQueue`,
          { key },
        ),
      )
    }
    if (!line) this.#lines.set(key, (line = { waiters: [], busy: false, retry: undefined }))
    const held = line
    return new Promise<RateLimitResult>((resolve, reject) => {
      const deadline = Date.now() + waitMs
      const waiter: Waiter = { cost: options.cost ?? 1, waitMs, deadline, resolve, reject, settled: false }
      const timer = setTimeout(() => this.#drop(key, held, waiter, this.#timeout(key, waitMs)), waitMs)
      const onAbort = () => this.#drop(key, held, waiter, signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      waiter.cleanup = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      held.waiters.push(waiter)
      if (!held.busy && held.retry === undefined) this.#next(key, held)
    })
  }

  #timeout(key: string, waitMs: number): RateWaitTimeoutError {
    return new RateWaitTimeoutError(
      `No allowance in scope "${this.scope}" within maxWait ${waitMs} ms: shed this call, raise maxWait or send fewer calls`,
      { key },
    )
  }

  /** Settles `waiter` once: its timer and abort listener go. */
  #settle(waiter: Waiter): boolean {
    if (waiter.settled) return false
    waiter.settled = true
    waiter.cleanup?.()
    return true
  }

  /** A caller gives up (timeout or abort): out of the line; if it was first, the next one goes. */
  #drop(key: string, line: Line, waiter: Waiter, reason: unknown): void {
    if (!this.#settle(waiter)) return
    const at = line.waiters.indexOf(waiter)
    if (at >= 0) line.waiters.splice(at, 1)
    waiter.reject(reason)
    // A decision in flight for it moves the line on when it returns.
    if (at === 0 && !line.busy) {
      clearTimeout(line.retry)
      line.retry = undefined
      this.#next(key, line)
    }
  }

  /** Asks the limiter for the first caller of `key`. */
  #next(key: string, line: Line): void {
    const head = line.waiters[0]
    if (head === undefined || this.#closed) {
      if (this.#lines.get(key) === line) this.#lines.delete(key)
      return
    }
    line.busy = true
    this.limiter.consume(this.scope, key, { cost: head.cost }).then(
      (result) => {
        line.busy = false
        if (head.settled) {
          // It gave up while its decision was in flight: an allowance won for it goes back.
          if (result.allowed && head.cost > 0) this.limiter.reward(this.scope, key, head.cost).catch(() => {})
          this.#next(key, line)
          return
        }
        if (result.allowed) {
          this.#settle(head)
          line.waiters.shift()
          head.resolve(result)
          this.#next(key, line)
          return
        }
        const delay = Math.max(1, result.retryAfterMs)
        if (Date.now() + delay > head.deadline) {
          // Known now to wait past its maxWait: it is told at once, not when the time is up.
          this.#drop(key, line, head, this.#timeout(key, head.waitMs))
          return
        }
        line.retry = setTimeout(() => {
          line.retry = undefined
          this.#next(key, line)
        }, delay)
      },
      (error: unknown) => {
        line.busy = false
        if (this.#settle(head)) {
          line.waiters.shift()
          head.reject(error)
        }
        this.#next(key, line)
      },
    )
  }
}
