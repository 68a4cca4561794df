import { InvalidOptionError } from '../errors.js'
import {
  DURATION_UNITS,
  type Duration,
  type DurationString,
  type DurationUnit,
  describe,
  durationToMs,
} from '../internal/index.js'

/** How a policy spends its allowance. GCRA is the default: smooth, no bursts at window edges. */
export type Algorithm = 'gcra' | 'sliding-window' | 'fixed-window' | 'token-bucket'

export const ALGORITHMS: readonly Algorithm[] = ['gcra', 'sliding-window', 'fixed-window', 'token-bucket']

/** A rule as an object: `limit` requests per `window`. */
export interface RuleObject {
  readonly limit: number
  readonly window: Duration
  /** Requests allowed at once (GCRA, token bucket). Default `limit`. */
  readonly burst?: number
  /** Default `'gcra'`. */
  readonly algorithm?: Algorithm
  /** Once a request is refused, refuse every request for this long (block after exhaustion). */
  readonly blockFor?: Duration
  /** The name in `RateLimit-Policy` headers. Default the scope's name (with `-2`, `-3`... when several). */
  readonly name?: string
}

/**
 * `'<limit>/<unit>'` or `'<limit>/<duration>'`: `'100/hour'`, `'5/min'`, `'10/15m'`, `'3/1h30m'`
 * (DRF and django-ratelimit syntax, with the units and sums of every cachekit duration).
 */
export type RuleString = `${number}/${DurationUnit}` | `${number}/${DurationString}`

/** A {@link RuleString} or a {@link RuleObject}. */
export type Rule = RuleString | RuleObject

/** One rule, or several policies that must all pass (e.g. `['10/s', '1000/day']`). */
export type RuleSet = Rule | readonly Rule[]

/** A parsed, validated policy. Numbers are milliseconds. */
export interface Policy {
  readonly name: string
  readonly algorithm: Algorithm
  readonly limit: number
  readonly windowMs: number
  /** Capacity for GCRA and token bucket; `limit` for the window algorithms. */
  readonly burst: number
  readonly blockMs: number
}

const SYNTAX =
  "use 'N/unit' or 'N/<duration>' where unit is ms, s, sec, second(s), m, min, minute(s), h, hr, hour(s), " +
  'd, day(s), w, week(s) in lower case, and a duration is a count and a unit or a sum of those ' +
  "(e.g. '100/hour', '5/min', '10/15m', '3/1h30m'), or { limit, window, burst?, algorithm?, blockFor? } " +
  `with algorithm one of ${ALGORITHMS.map((a) => `'${a}'`).join(', ')}`

const STRING_RULE = /^\s*(\d+)\s*\/\s*(\S(?:.*\S)?)\s*$/

function fail(scope: string, input: unknown, why: string): never {
  throw new InvalidOptionError(`Invalid rate limit rule ${describe(input)} for "${scope}": ${why}; ${SYNTAX}`)
}

function positiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

/**
 * The longest window or block: 366 days. The Lua scripts and PEXPIRE take whole milliseconds, so a
 * rule is checked here rather than failing every Redis decision (and degrading to local) later.
 */
export const MAX_RULE_MS = 366 * 86_400_000

/** Whole milliseconds from 1 (0 too when `zero`) to {@link MAX_RULE_MS}, or undefined. */
function ruleMs(value: unknown, zero: boolean): number | undefined {
  if (typeof value === 'number' && !Number.isInteger(value)) return undefined
  const ms = durationToMs(value)
  if (ms === undefined || !Number.isSafeInteger(ms) || ms > MAX_RULE_MS) return undefined
  return ms >= (zero ? 0 : 1) ? ms : undefined
}

/** Parses one rule; throws {@link InvalidOptionError} saying the accepted syntax. */
export function parseRule(scope: string, input: unknown, name = scope): Policy {
  if (typeof input === 'string') {
    const match = STRING_RULE.exec(input)
    if (!match) fail(scope, input, 'not a rule string')
    const limit = Number(match[1])
    const window = match[2] as string
    const windowMs = Object.hasOwn(DURATION_UNITS, window)
      ? DURATION_UNITS[window as DurationUnit]
      : durationToMs(window)
    if (!positiveInt(limit)) fail(scope, input, 'the limit must be a whole number > 0')
    if (windowMs === undefined) fail(scope, input, `${describe(window)} is not a unit or a duration`)
    if (!Number.isInteger(windowMs) || windowMs < 1) {
      fail(scope, input, 'the window must be a whole number of milliseconds > 0')
    }
    if (windowMs > MAX_RULE_MS) fail(scope, input, 'the window must be at most 366 days')
    return { name, algorithm: 'gcra', limit, windowMs, burst: limit, blockMs: 0 }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) fail(scope, input, 'not a rule')
  const rule = input as Partial<Record<keyof RuleObject, unknown>>
  if (!positiveInt(rule.limit)) fail(scope, input, 'limit must be a whole number > 0')
  const windowMs = ruleMs(rule.window, false)
  if (windowMs === undefined) {
    fail(
      scope,
      input,
      'window must be a whole number of milliseconds from 1 to 366 days, or a duration string',
    )
  }
  const algorithm = rule.algorithm ?? 'gcra'
  if (!ALGORITHMS.includes(algorithm as Algorithm)) fail(scope, input, 'unknown algorithm')
  const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window'
  if (rule.burst !== undefined && (!positiveInt(rule.burst) || windowed)) {
    fail(scope, input, 'burst must be a whole number > 0, and only applies to gcra and token-bucket')
  }
  const blockMs = rule.blockFor === undefined ? 0 : ruleMs(rule.blockFor, true)
  if (blockMs === undefined) {
    fail(scope, input, 'blockFor must be a whole number of milliseconds up to 366 days, or a duration string')
  }
  const named = rule.name === undefined ? name : rule.name
  if (typeof named !== 'string' || named === '') fail(scope, input, 'name must be a non-empty string')
  return {
    name: named,
    algorithm: algorithm as Algorithm,
    limit: rule.limit,
    windowMs,
    burst: (rule.burst as number | undefined) ?? rule.limit,
    blockMs,
  }
}

/** Parses a scope's rule or list of rules into its policies. */
export function parseRuleSet(scope: string, input: unknown): readonly Policy[] {
  if (!Array.isArray(input)) return [parseRule(scope, input)]
  if (input.length === 0) fail(scope, input, 'a list of rules must not be empty')
  const policies = input.map((rule, i) => parseRule(scope, rule, i === 0 ? scope : `${scope}-${i + 1}`))
  const names = new Set(policies.map((p) => p.name))
  if (names.size !== policies.length) fail(scope, input, 'policy names of one scope must differ')
  return policies
}

/** Parses `{ scope: rule }`, validating every rule up front. */
export function parseRules(rules: unknown): ReadonlyMap<string, readonly Policy[]> {
  if (rules === null || typeof rules !== 'object' || Array.isArray(rules)) {
    throw new InvalidOptionError(
      `createRateLimiter needs rules: an object such as { anon: '100/hour', login: '5/min' }; ${SYNTAX}`,
    )
  }
  const out = new Map<string, readonly Policy[]>()
  for (const [scope, rule] of Object.entries(rules)) out.set(scope, parseRuleSet(scope, rule))
  if (out.size === 0) throw new InvalidOptionError('createRateLimiter needs at least one rule')
  return out
}

/** Largest cost one request can ever be granted under these policies. */
export function capacity(policies: readonly Policy[]): number {
  return Math.min(...policies.map((p) => p.burst))
}
