export { RateLimitedError } from '../errors.js'
export type { BurstLogEvent, DegradedEvent } from '../observe/index.js'
export { type Script, type ScriptRunner, scriptRunnerFromClient } from './backend.js'
export {
  type ClientIpOptions,
  type ClientIpResolver,
  clientIp,
  compileClientIp,
  parseForwarded,
  type TrustProxy,
} from './client-ip.js'
export {
  InvalidIdentityError,
  ProtectionStoreUnsupportedError,
  RateQueueClosedError,
  RateQueueFullError,
  RateWaitTimeoutError,
  SecretRequiredError,
} from './errors.js'
export { type HeaderOptions, rateLimitHeaders, retryAfterSeconds } from './headers.js'
export {
  canonicalIp,
  type IpAddress,
  ipIdentity,
  normalizeUsername,
  parseIp,
  type UserNormalization,
} from './identity.js'
export { type AddressList, addressList, ipKey, normalizeIp } from './ip.js'
export {
  type ConsumeOptions,
  createRateLimiter,
  type FailurePolicy,
  type PolicyResult,
  type ProtectionStore,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimiterStats,
  type RateLimitResult,
  type RateLimitStore,
} from './limiter.js'
export {
  createLoginGuard,
  type GuardAdminOptions,
  type GuardCheck,
  type GuardFailure,
  type LockAttribute,
  type LockBy,
  type LockoutEvent,
  type LockoutLogEntry,
  type LockoutTier,
  type LoginAttempt,
  type LoginGuard,
  type LoginGuardOptions,
  type LoginGuardStats,
} from './login-guard.js'
export {
  type CodePurpose,
  createOneTimeCodes,
  type OneTimeCodes,
  type OneTimeCodesOptions,
} from './one-time-codes.js'
export {
  createRateQueue,
  type RateQueue,
  type RateQueueOptions,
  type RateWaitOptions,
} from './queue.js'
export type { Algorithm, Policy, Rule, RuleObject, RuleSet, RuleString } from './rules.js'
export { parseRule, parseRuleSet } from './rules.js'
