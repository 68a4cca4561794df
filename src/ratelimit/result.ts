import type { PolicyOutcome } from './backend.js'
import type { Algorithm, Policy } from './rules.js'

/**
 * What happens when the Redis store fails or misses its deadline:
 * - `'open'`: the request is allowed (the result says `degraded: 'open'`);
 * - `'closed'`: the request is refused with `retryAfterMs` 1 s;
 * - `'local'` (default): an in-process limiter with the same rules decides, per process.
 */
export type FailurePolicy = 'open' | 'closed' | 'local'

/** One policy's part of a decision. */
export interface PolicyResult {
  readonly name: string
  readonly algorithm: Algorithm
  readonly limit: number
  readonly windowMs: number
  readonly allowed: boolean
  readonly remaining: number
  readonly resetMs: number
  readonly retryAfterMs: number
  /** Refused by `blockFor`. */
  readonly blocked: boolean
}

/** One rate-limit decision: allowed or not, what remains, and when to retry. */
export interface RateLimitResult {
  readonly allowed: boolean
  /** The limit of the tightest policy. */
  readonly limit: number
  readonly remaining: number
  readonly resetMs: number
  /** 0 when allowed; otherwise how long until the same request could pass. */
  readonly retryAfterMs: number
  readonly policies: readonly PolicyResult[]
  /**
   * Set when the store failed: the failure policy decided, or `'insurance'` when the limiter's
   * `insurance` limiter did.
   */
  readonly degraded?: FailurePolicy | 'insurance'
}

/** Folds per-policy outcomes into one result: the tightest policy speaks for the request. */
export function summarize(policies: readonly Policy[], outcomes: readonly PolicyOutcome[]): RateLimitResult {
  const results: PolicyResult[] = policies.map((p, i) => {
    const o = outcomes[i] as PolicyOutcome
    return {
      name: p.name,
      algorithm: p.algorithm,
      limit: p.limit,
      windowMs: p.windowMs,
      allowed: o.allowed,
      remaining: o.remaining,
      resetMs: o.resetMs,
      retryAfterMs: o.retryAfterMs,
      blocked: o.blocked,
    }
  })
  const allowed = results.every((r) => r.allowed)
  let primary = results[0] as PolicyResult
  for (const r of results) {
    if (allowed ? r.remaining < primary.remaining : r.retryAfterMs > primary.retryAfterMs) primary = r
  }
  return {
    allowed,
    limit: primary.limit,
    remaining: Math.min(...results.map((r) => r.remaining)),
    resetMs: primary.resetMs,
    retryAfterMs: allowed ? 0 : primary.retryAfterMs,
    policies: results,
  }
}

/** The same outcome on every policy: a manual block, or the open and closed failure policies. */
export function uniform(policies: readonly Policy[], outcome: PolicyOutcome): RateLimitResult {
  return summarize(
    policies,
    policies.map(() => outcome),
  )
}
