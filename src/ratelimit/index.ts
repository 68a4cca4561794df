export { RateLimitedError } from '../errors.js'
export { type LuaScript, type ScriptRunner, scriptRunnerFromClient } from './backend.js'
export { type HeaderOptions, rateLimitHeaders, retryAfterSeconds } from './headers.js'
export { type AddressList, addressList, ipKey, normalizeIp, type TrustProxy } from './ip.js'
export {
  type ConsumeOptions,
  createRateLimiter,
  type FailurePolicy,
  type PolicyResult,
  type ProtectionStore,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitResult,
} from './limiter.js'
export {
  createLoginGuard,
  type GuardCheck,
  type GuardFailure,
  type LockAttribute,
  type LockBy,
  type LockoutEvent,
  type LockoutTier,
  type LoginAttempt,
  type LoginGuard,
  type LoginGuardOptions,
} from './login-guard.js'
export { createOneTimeCodes, type OneTimeCodes, type OneTimeCodesOptions } from './one-time-codes.js'
export type { Algorithm, Policy, Rule, RuleObject, RuleSet } from './rules.js'
export { parseRule, parseRuleSet } from './rules.js'
