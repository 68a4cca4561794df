import type { RateLimitResult } from './limiter.js'

interface Denial {
  readonly until: number
  readonly cost: number
  readonly result: RateLimitResult
}

/**
 * Refusals remembered in this process until their `retryAfterMs` passes, so a client hammering a
 * blocked key costs no Redis call. A refusal of cost `c` also answers any cost >= `c` (a larger
 * cost cannot pass sooner). On a Redis store the limiter shares refusals and resets with the other
 * processes over pub/sub. Bounded: the oldest entries go first.
 */
export class DenyCache {
  readonly #entries = new Map<string, Denial>()

  constructor(readonly maxEntries = 10_000) {}

  get(base: string, cost: number, now: number): RateLimitResult | undefined {
    const denial = this.#entries.get(base)
    if (denial === undefined) return undefined
    if (denial.until <= now) {
      this.#entries.delete(base)
      return undefined
    }
    if (cost < denial.cost) return undefined
    const wait = Math.ceil(denial.until - now)
    return {
      ...denial.result,
      retryAfterMs: wait,
      resetMs: Math.max(wait, denial.result.resetMs - (denial.result.retryAfterMs - wait)),
    }
  }

  set(base: string, cost: number, now: number, result: RateLimitResult): void {
    if (result.retryAfterMs <= 0) return
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.delete(base)
    this.#entries.set(base, { until: now + result.retryAfterMs, cost, result })
  }

  delete(base: string): void {
    this.#entries.delete(base)
  }
}
