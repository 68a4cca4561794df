import { InvalidOptionError } from '../errors.js'
import type { MaybePromise } from '../internal/index.js'
import type { GuardCheck, LoginGuard } from '../ratelimit/index.js'
import { compileClientIp, retryAfterSeconds, type TrustProxy } from '../ratelimit/index.js'
import { PROBLEM_TYPE, type RequestAccess } from './rate-limit-decider.js'

/** What a login response says about the attempt: a failure, a success, or nothing to record. */
export type LoginOutcome = 'fail' | 'succeed' | undefined

/**
 * Login guard middleware options, the same for every framework; `Req` is the framework's request.
 * The middleware checks the guard before the login handler (refusing a locked attempt with 429 and
 * `Retry-After`, without running the handler) and records the attempt from the response status.
 */
export interface LoginGuardMiddlewareOptions<Req> {
  readonly guard: LoginGuard
  /** The attempt's username, e.g. `(req) => req.body?.username`; undefined: locks by IP only. */
  readonly username: (req: Req) => MaybePromise<string | undefined>
  /** Which proxies to believe about the client address (see `TrustProxy`). Default none. */
  readonly trustProxy?: TrustProxy
  /** The forwarding header the trusted proxies write. Default `'x-forwarded-for'`. */
  readonly forwardedHeader?: 'x-forwarded-for' | 'forwarded'
  /**
   * What a response status says. Default: 400-499 a failed login (a wrong password, or a malformed
   * attempt), below 400 a success; anything else (5xx, a connection closed first, status 0) records
   * nothing, and the guard's reservation lapses on its own.
   */
  readonly outcome?: (status: number) => LoginOutcome
  /** Overrides for the `application/problem+json` body of a 429. */
  readonly problem?: { readonly type?: string; readonly title?: string; readonly detail?: string }
}

/** What the login guard middleware does with a request: let it through (and record it), or refuse it. */
export type GuardVerdict =
  | {
      readonly action: 'pass'
      /**
       * Records the attempt from the response status (0 when the connection closed first); only
       * the first call counts. Never rejects: a record the store misses lapses with the reservation.
       */
      readonly settle: (status: number) => Promise<void>
    }
  | {
      readonly action: 'reject'
      readonly status: 429
      readonly headers: Record<string, string>
      readonly body: string
      readonly check: GuardCheck
    }

const defaultOutcome = (status: number): LoginOutcome =>
  status > 0 && status < 400 ? 'succeed' : status >= 400 && status < 500 ? 'fail' : undefined

/** The framework-neutral part of the login guard middleware: request in, verdict out. */
export function createLoginGuardDecider<Req>(
  options: LoginGuardMiddlewareOptions<Req>,
  access: RequestAccess<Req>,
): (req: Req) => Promise<GuardVerdict> {
  if (options === null || typeof options !== 'object' || typeof options.guard?.check !== 'function') {
    throw new InvalidOptionError('loginGuard middleware needs options { guard, username: (req) => ... }')
  }
  if (typeof options.username !== 'function') {
    throw new InvalidOptionError('loginGuard middleware needs username: (req) => string | undefined')
  }
  const { guard } = options
  const clientIp = compileClientIp({ trustProxy: options.trustProxy, header: options.forwardedHeader })
  const outcome = options.outcome ?? defaultOutcome

  return async function decideLogin(req) {
    const username = (await options.username(req)) ?? undefined
    const ip = clientIp(access.peer(req), (name) => access.header(req, name))
    const attempt = { username: username === '' ? undefined : username, ip }
    const check = await guard.check(attempt)
    if (!check.locked) {
      let done = false
      const settle = async (status: number) => {
        if (done) return
        done = true
        const what = outcome(status)
        try {
          if (what === 'fail') await guard.fail(attempt)
          else if (what === 'succeed') await guard.succeed(attempt)
        } catch {}
      }
      return { action: 'pass', settle }
    }
    const headers: Record<string, string> = { 'Content-Type': PROBLEM_TYPE }
    const retry = retryAfterSeconds(check.retryAfterMs)
    if (retry) headers['Retry-After'] = retry
    const body = JSON.stringify({
      type: options.problem?.type ?? 'about:blank',
      title: options.problem?.title ?? 'Too Many Requests',
      status: 429,
      detail:
        options.problem?.detail ??
        (retry ? `Too many failed logins; retry in ${retry} s.` : 'Too many failed logins.'),
      ...(retry && { retryAfter: Number(retry) }),
    })
    return { action: 'reject', status: 429, headers, body, check }
  }
}
