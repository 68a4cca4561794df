// Internal door: what the framework doors (express/, fastify/, hono/) share: request accounting,
// the admin page bridge, the Node response capture, the rate-limit and login-guard decisions and
// the SSE core.
export type { Accounting, CacheAccountingOptions, RequestAccount, RequestCacheCounts } from './accounting.js'
export { createAccounting } from './accounting.js'
export { sendWebResponse, toWebRequest } from './admin-bridge.js'
export type { GuardVerdict, LoginGuardMiddlewareOptions, LoginOutcome } from './login-guard-decider.js'
export { createLoginGuardDecider } from './login-guard-decider.js'
export { currentHeaders, nodeView, stripConditionals, writeReply } from './node-capture.js'
export type {
  RateLimitMiddlewareOptions,
  RequestAccess,
  RequestRateLimit,
  Verdict,
} from './rate-limit-decider.js'
export { createRateLimitDecider, PROBLEM_TYPE } from './rate-limit-decider.js'
export { nodeEventStreams, webEventStreams } from './sse.js'
