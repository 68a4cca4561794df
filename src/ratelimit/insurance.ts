import { InvalidOptionError } from '../errors.js'
import { describe } from '../internal/index.js'
import type { Mode, PolicyOutcome } from './backend.js'
import type { RateLimiter } from './limiter-types.js'
import type { FailurePolicy } from './result.js'
import { type RateLimitResult, uniform } from './result.js'
import type { Policy } from './rules.js'

/** The `insurance` option checked: a rate limiter that knows every scope of the one it insures. */
export function checkInsurance<S extends string>(
  insurance: RateLimiter<S> | undefined,
  scopes: readonly S[],
): RateLimiter<S> | undefined {
  if (insurance === undefined) return undefined
  if (
    insurance === null ||
    typeof insurance !== 'object' ||
    typeof insurance.consume !== 'function' ||
    typeof insurance.peek !== 'function' ||
    !Array.isArray(insurance.scopes)
  ) {
    throw new InvalidOptionError(
      `createRateLimiter insurance must be a rate limiter (createRateLimiter(...)), got ${describe(insurance)}`,
    )
  }
  const missing = scopes.filter((s) => !insurance.scopes.includes(s))
  if (missing.length > 0) {
    throw new InvalidOptionError(
      `createRateLimiter insurance has no rules for ${missing.map((s) => `"${s}"`).join(', ')}: give it a rule for every scope`,
    )
  }
  return insurance
}

/** A decision made by the insurance limiter while the store is out, marked `degraded: 'insurance'`. */
export async function insure<S extends string>(
  insurance: RateLimiter<S>,
  scope: S,
  key: string,
  cost: number,
  mode: Mode,
): Promise<RateLimitResult> {
  const result =
    mode === 'consume'
      ? await insurance.consume(scope, key, { cost })
      : await insurance.peek(scope, key, { cost })
  return { ...result, degraded: 'insurance' }
}

/** The `'open'` and `'closed'` failure policies' answer: every policy allows, or refuses for 1 s. */
export function failurePolicyResult(policies: readonly Policy[], policy: 'open' | 'closed'): RateLimitResult {
  const allowed = policy === 'open'
  const outcome: PolicyOutcome = {
    allowed,
    remaining: 0,
    resetMs: allowed ? 0 : 1000,
    retryAfterMs: allowed ? 0 : 1000,
    blocked: false,
  }
  return { ...uniform(policies, outcome), degraded: policy }
}

/** The `cachekit:degraded` kind and the log's words for what decides while the store is out. */
export function fallbackName(insured: boolean, onFailure: FailurePolicy): { kind: string; policy: string } {
  if (insured) return { kind: 'insurance-decision', policy: 'the insurance limiter' }
  const kind = onFailure === 'local' ? 'local-decision' : `fail-${onFailure}`
  return { kind, policy: `onFailure '${onFailure}'` }
}
