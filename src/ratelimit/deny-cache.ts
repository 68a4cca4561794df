import type { RateLimitResult } from './result.js'

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

/** A message on the deny channel: a refusal or a reset made by another instance. */
export interface DenialMessage {
  readonly origin: string
  readonly base: string
  readonly cost: number
  readonly reset?: true
  readonly result?: RateLimitResult
}

/** A message from another instance, or undefined for anything else on the channel. */
export function parseDenial(message: string): DenialMessage | undefined {
  try {
    const value = JSON.parse(message) as Partial<DenialMessage>
    if (
      typeof value.origin !== 'string' ||
      typeof value.base !== 'string' ||
      typeof value.cost !== 'number'
    ) {
      return undefined
    }
    if (
      value.reset !== true &&
      (typeof value.result?.retryAfterMs !== 'number' || value.result.allowed !== false)
    ) {
      return undefined
    }
    return value as DenialMessage
  } catch {
    return undefined
  }
}
