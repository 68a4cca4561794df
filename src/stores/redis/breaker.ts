import type { Duration } from '../../internal/index.js'

/**
 * A circuit breaker: after `threshold` consecutive failures it opens and refuses calls at once;
 * after `coolDown` it lets one probe through (half-open); the probe's success closes it, its
 * failure opens it for another cool-down. A dead Redis then costs a branch per call, not a deadline.
 */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** When the Redis store stops calling a failing server, and for how long. */
export interface BreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  readonly threshold?: number
  /** How long the circuit stays open before a probe. Default `'1s'`. */
  readonly coolDown?: Duration
  /** @deprecated The old name of {@link BreakerOptions.coolDown}, in milliseconds. */
  readonly coolDownMs?: number
}

/** Breaker settings after validation (by `redisStore`'s option checks). */
export interface ResolvedBreakerOptions {
  readonly threshold: number
  readonly coolDownMs: number
}

export class CircuitBreaker {
  readonly threshold: number
  readonly coolDownMs: number
  #state: BreakerState = 'closed'
  #failures = 0
  #openedAt = 0
  #probing = false
  /** Called when the state changes, for logs. */
  onChange: ((state: BreakerState) => void) | undefined

  constructor(options: ResolvedBreakerOptions = { threshold: 5, coolDownMs: 1000 }) {
    this.threshold = options.threshold
    this.coolDownMs = options.coolDownMs
  }

  get state(): BreakerState {
    return this.#state
  }

  /** True while open and cooling down: calls fail at once without reaching the server. */
  get shortCircuiting(): boolean {
    return this.#state === 'open' && performance.now() - this.#openedAt < this.coolDownMs
  }

  /** True when a call may go to the server now. In half-open state only one probe at a time may. */
  allow(): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open') {
      if (performance.now() - this.#openedAt < this.coolDownMs) return false
      this.#set('half-open')
    }
    if (this.#probing) return false
    this.#probing = true
    return true
  }

  success(): void {
    this.#failures = 0
    this.#probing = false
    if (this.#state !== 'closed') this.#set('closed')
  }

  failure(): void {
    this.#probing = false
    this.#failures++
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.threshold)) {
      this.#openedAt = performance.now()
      this.#set('open')
    }
  }

  /** Opens the circuit now, e.g. when the connection is known to be down. */
  trip(): void {
    if (this.#state === 'open') return
    this.#probing = false
    this.#openedAt = performance.now()
    this.#set('open')
  }

  #set(state: BreakerState): void {
    this.#state = state
    this.onChange?.(state)
  }
}
