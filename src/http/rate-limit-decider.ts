import { InvalidOptionError } from '../errors.js'
import type { MaybePromise } from '../internal/index.js'
import type { RateLimiter, RateLimitResult } from '../ratelimit/index.js'
import {
  addressList,
  compileClientIp,
  type HeaderOptions,
  rateLimitHeaders,
  type TrustProxy,
} from '../ratelimit/index.js'
import {
  checkIpv6Prefix,
  checkUserNormalization,
  ipIdentity,
  normalizeUsername,
  type UserNormalization,
} from '../ratelimit/internal.js'

/**
 * Rate limit middleware options, the same for every framework; `Req` is the framework's request
 * (Express `Request`, Fastify `FastifyRequest`, Hono `Context`). `S` is the limiter's rule names,
 * taken from `limiter`, so a misspelt `scope` does not compile.
 */
export interface RateLimitMiddlewareOptions<Req, S extends string = string> {
  readonly limiter: RateLimiter<S>
  /** The rule scope for a request, e.g. by role: `(req) => req.user ? 'user' : 'anon'`. Undefined skips. */
  readonly scope: NoInfer<S> | ((req: Req) => MaybePromise<NoInfer<S> | undefined>)
  /**
   * Whom a request counts against: `'ip'` (default; the client address from {@link clientIp},
   * IPv6 grouped by /64), `'user'` (normalised as `normalizeUser` says; falls back to the IP when
   * `user` returns nothing), `'role'`, or a callback (undefined: fall back to the IP).
   */
  readonly key?: 'ip' | 'user' | 'role' | ((req: Req) => MaybePromise<string | undefined>)
  readonly user?: (req: Req) => MaybePromise<string | undefined>
  readonly role?: (req: Req) => MaybePromise<string | undefined>
  /**
   * Which proxies to believe about the client address (see `TrustProxy`: a hop count, CIDRs,
   * `'loopback'`...). Default none: the socket peer is the client. The framework's own trust
   * setting (Express `trust proxy`) is not used, so it cannot widen this by accident.
   */
  readonly trustProxy?: TrustProxy
  /** The forwarding header the trusted proxies write. Default `'x-forwarded-for'`. */
  readonly forwardedHeader?: 'x-forwarded-for' | 'forwarded'
  /** IPv6 addresses share a key per this prefix length. Default 64 (as the login guard). */
  readonly ipv6Prefix?: number
  /** How `key: 'user'` names become keys (see `UserNormalization`). Default trimmed, NFKC, case-folded. */
  readonly normalizeUser?: UserNormalization
  /** Requests that are never counted. */
  readonly skip?: (req: Req) => MaybePromise<boolean>
  /**
   * Client addresses and CIDR ranges that are never limited. Matched against the resolved client
   * address, so a forged `X-Forwarded-For: 127.0.0.1` from an untrusted hop never matches.
   */
  readonly allowList?: readonly string[]
  readonly cost?: number | ((req: Req) => MaybePromise<number>)
  readonly headers?: HeaderOptions
  /** Overrides for the `application/problem+json` body of a 429. */
  readonly problem?: { readonly type?: string; readonly title?: string; readonly detail?: string }
  /**
   * Count the request, then give it back (`limiter.reward`) when its response fails (status
   * >= 400; in Express also a connection closed before the response): only requests that succeed
   * count. As express-rate-limit.
   */
  readonly skipFailedRequests?: boolean
  /**
   * Count the request, then give it back when its response succeeds (status < 400): only failures
   * count, e.g. failed logins.
   */
  readonly skipSuccessfulRequests?: boolean
}

/**
 * A request's rate limit decision, for later handlers (Express `req.rateLimit`, Fastify
 * `request.rateLimit`, Hono `c.get('rateLimit')`): the limiter's result, its scope and key.
 */
export interface RequestRateLimit extends RateLimitResult {
  readonly scope: string
  readonly key: string
}

/** How an adapter reads the framework's request. */
export interface RequestAccess<Req> {
  peer(req: Req): string | undefined
  header(req: Req, name: string): string | undefined
}

export type Verdict =
  | { readonly action: 'skip' }
  | {
      readonly action: 'pass'
      readonly headers: Record<string, string>
      readonly result: RateLimitResult
      readonly info: RequestRateLimit
      /**
       * Present with `skipFailedRequests`/`skipSuccessfulRequests`: call once with the response
       * status (0 when the connection closed before the response was sent).
       */
      readonly settle?: (status: number) => void
    }
  | {
      readonly action: 'reject'
      readonly status: 429
      readonly headers: Record<string, string>
      readonly body: string
      readonly result: RateLimitResult
      readonly info: RequestRateLimit
    }

export const PROBLEM_TYPE = 'application/problem+json'

/** The framework-neutral part of the rate limit middleware: request in, verdict out. */
export function createRateLimitDecider<Req, S extends string>(
  options: RateLimitMiddlewareOptions<Req, S>,
  access: RequestAccess<Req>,
): (req: Req) => Promise<Verdict> {
  if (options === null || typeof options !== 'object' || typeof options.limiter?.consume !== 'function') {
    throw new InvalidOptionError('rate limit middleware needs options { limiter, scope }')
  }
  const { limiter, scope } = options
  if (typeof scope === 'string' && !limiter.scopes.includes(scope)) {
    throw new InvalidOptionError(`rate limit middleware scope "${scope}" is not one of the limiter's rules`)
  }
  const keyMode = options.key ?? 'ip'
  if (keyMode === 'user' && !options.user)
    throw new InvalidOptionError("key: 'user' needs a user(req) option")
  if (keyMode === 'role' && !options.role)
    throw new InvalidOptionError("key: 'role' needs a role(req) option")
  const clientIp = compileClientIp({ trustProxy: options.trustProxy, header: options.forwardedHeader })
  const allow = options.allowList ? addressList(options.allowList, 'allowList') : undefined
  const prefix = checkIpv6Prefix(options.ipv6Prefix ?? 64)
  const userMode = checkUserNormalization(options.normalizeUser)
  const skipFailed = options.skipFailedRequests === true
  const skipSucceeded = options.skipSuccessfulRequests === true

  return async function decide(req) {
    if (options.skip && (await options.skip(req))) return { action: 'skip' }
    const ip = clientIp(access.peer(req), (name) => access.header(req, name))
    if (ip !== undefined && allow?.has(ip)) return { action: 'skip' }
    const scopeName = typeof scope === 'string' ? scope : await scope(req)
    if (scopeName === undefined) return { action: 'skip' }
    let key: string | undefined
    if (keyMode === 'user') {
      const user = (await options.user?.(req)) ?? undefined
      key = user === undefined ? undefined : normalizeUsername(user, userMode)
    } else if (keyMode === 'role') key = (await options.role?.(req)) ?? undefined
    else if (typeof keyMode === 'function') key = await keyMode(req)
    // Clients whose address a trusted proxy could not tell (`unknown`) share one key: a client
    // cannot mint keys of its own that way.
    key =
      key === undefined || key === ''
        ? `ip:${(ip === undefined ? undefined : ipIdentity(ip, prefix)) ?? 'unknown'}`
        : `${keyMode === 'ip' ? 'ip' : 'k'}:${key}`
    const cost = typeof options.cost === 'function' ? await options.cost(req) : (options.cost ?? 1)
    const result = await limiter.consume(scopeName, key, { cost })
    const headers = rateLimitHeaders(result, options.headers)
    const info: RequestRateLimit = { ...result, scope: scopeName, key }
    if (result.allowed) {
      if (!skipFailed && !skipSucceeded) return { action: 'pass', headers, result, info }
      const settled = { scope: scopeName, key, cost }
      const settle = (status: number) => {
        const failed = status === 0 || status >= 400
        if (failed ? !skipFailed : !skipSucceeded) return
        // The response is gone: a refund the store misses costs the client one count, no more.
        limiter.reward(settled.scope, settled.key, settled.cost).catch(() => {})
      }
      return { action: 'pass', headers, result, info, settle }
    }
    headers['Content-Type'] = PROBLEM_TYPE
    const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000))
    const body = JSON.stringify({
      type: options.problem?.type ?? 'about:blank',
      title: options.problem?.title ?? 'Too Many Requests',
      status: 429,
      detail: options.problem?.detail ?? `Rate limit "${scopeName}" exceeded; retry in ${seconds} s.`,
      retryAfter: seconds,
    })
    return { action: 'reject', status: 429, headers, body, result, info }
  }
}
