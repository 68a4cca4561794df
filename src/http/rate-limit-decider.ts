import { InvalidOptionError } from '../errors.js'
import { type HeaderOptions, rateLimitHeaders } from '../ratelimit/headers.js'
import { addressList, compileTrust, ipKey, type TrustProxy } from '../ratelimit/ip.js'
import type { RateLimiter, RateLimitResult } from '../ratelimit/limiter.js'

type MaybePromise<T> = T | Promise<T>

/**
 * Rate limit middleware options, the same for every framework; `Req` is the framework's request
 * (Express `Request`, Fastify `FastifyRequest`, Hono `Context`).
 */
export interface RateLimitMiddlewareOptions<Req> {
  readonly limiter: RateLimiter<string>
  /** The rule scope for a request, e.g. by role: `(req) => req.user ? 'user' : 'anon'`. Undefined skips. */
  readonly scope: string | ((req: Req) => MaybePromise<string | undefined>)
  /**
   * Whom a request counts against: `'ip'` (default; IPv6 grouped by /64), `'user'` (falls back to the
   * IP when `user` returns nothing), `'role'`, or a callback (undefined: fall back to the IP).
   */
  readonly key?: 'ip' | 'user' | 'role' | ((req: Req) => MaybePromise<string | undefined>)
  readonly user?: (req: Req) => MaybePromise<string | undefined>
  readonly role?: (req: Req) => MaybePromise<string | undefined>
  /** Which proxies' `X-Forwarded-For` to believe. Default none: the socket peer is the client. */
  readonly trustProxy?: TrustProxy
  /** IPv6 addresses share a key per this prefix length. Default 64. */
  readonly ipv6Prefix?: number
  /** Requests that are never counted. */
  readonly skip?: (req: Req) => MaybePromise<boolean>
  /** Client addresses and CIDR ranges that are never limited. */
  readonly allowList?: readonly string[]
  readonly cost?: number | ((req: Req) => MaybePromise<number>)
  readonly headers?: HeaderOptions
  /** Overrides for the `application/problem+json` body of a 429. */
  readonly problem?: { readonly type?: string; readonly title?: string; readonly detail?: string }
}

/** How an adapter reads the framework's request. */
export interface RequestAccess<Req> {
  peer(req: Req): string | undefined
  header(req: Req, name: string): string | undefined
}

export type Verdict =
  | { readonly action: 'skip' }
  | { readonly action: 'pass'; readonly headers: Record<string, string>; readonly result: RateLimitResult }
  | {
      readonly action: 'reject'
      readonly status: 429
      readonly headers: Record<string, string>
      readonly body: string
      readonly result: RateLimitResult
    }

export const PROBLEM_TYPE = 'application/problem+json'

/** The framework-neutral part of the rate limit middleware: request in, verdict out. */
export function createRateLimitDecider<Req>(
  options: RateLimitMiddlewareOptions<Req>,
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
  const clientIp = compileTrust(options.trustProxy)
  const allow = options.allowList ? addressList(options.allowList, 'allowList') : undefined
  const prefix = options.ipv6Prefix ?? 64

  return async function decide(req) {
    if (options.skip && (await options.skip(req))) return { action: 'skip' }
    const ip = clientIp(access.peer(req) ?? '', access.header(req, 'x-forwarded-for'))
    if (allow?.has(ip)) return { action: 'skip' }
    const scopeName = typeof scope === 'string' ? scope : await scope(req)
    if (scopeName === undefined) return { action: 'skip' }
    let key: string | undefined
    if (keyMode === 'user') key = (await options.user?.(req)) ?? undefined
    else if (keyMode === 'role') key = (await options.role?.(req)) ?? undefined
    else if (typeof keyMode === 'function') key = await keyMode(req)
    key =
      key === undefined || key === ''
        ? `ip:${ipKey(ip || 'unknown', prefix)}`
        : `${keyMode === 'ip' ? 'ip' : 'k'}:${key}`
    const cost = typeof options.cost === 'function' ? await options.cost(req) : (options.cost ?? 1)
    const result = await limiter.consume(scopeName, key, { cost })
    const headers = rateLimitHeaders(result, options.headers)
    if (result.allowed) return { action: 'pass', headers, result }
    headers['Content-Type'] = PROBLEM_TYPE
    const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000))
    const body = JSON.stringify({
      type: options.problem?.type ?? 'about:blank',
      title: options.problem?.title ?? 'Too Many Requests',
      status: 429,
      detail: options.problem?.detail ?? `Rate limit "${scopeName}" exceeded; retry in ${seconds} s.`,
      retryAfter: seconds,
    })
    return { action: 'reject', status: 429, headers, body, result }
  }
}
