import type { RateLimitResult } from './result.js'

/** Which rate-limit headers to send: the IETF draft `RateLimit` fields, the `X-RateLimit-*` ones, or both. */
export interface HeaderOptions {
  /** IETF `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers). Default true. */
  readonly ietf?: boolean
  /** `X-RateLimit-Limit`, `-Remaining`, `-Reset` (epoch seconds). Default false. */
  readonly legacy?: boolean
  /**
   * Which draft of the IETF headers (express-rate-limit's `standardHeaders`):
   * - `8` (default): `RateLimit-Policy: "api";q=100;w=60` and `RateLimit: "api";r=99;t=60`, one
   *   member per policy;
   * - `7`: `RateLimit-Policy: 100;w=60` and `RateLimit: limit=100, remaining=99, reset=60`;
   * - `6`: `RateLimit-Policy: 100;w=60` and `RateLimit-Limit`, `RateLimit-Remaining`,
   *   `RateLimit-Reset` (seconds).
   *
   * Drafts 6 and 7 report the tightest policy; their `RateLimit-Policy` lists every policy.
   */
  readonly draft?: 6 | 7 | 8
}

/** A structured-field string: quoted, with `\` and `"` escaped, printable ASCII only. */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000))

/**
 * Response headers for a decision: `RateLimit-Policy: "login";q=5;w=60` and
 * `RateLimit: "login";r=0;t=42` (one list member per policy), `Retry-After` when refused, and the
 * legacy `X-RateLimit-*` trio when asked for (of the tightest policy).
 */
export function rateLimitHeaders(
  result: RateLimitResult,
  options: HeaderOptions = {},
  now = Date.now(),
): Record<string, string> {
  const headers: Record<string, string> = {}
  const draft = options.draft ?? 8
  if (options.ietf !== false && draft !== 8) {
    headers['RateLimit-Policy'] = result.policies.map((p) => `${p.limit};w=${seconds(p.windowMs)}`).join(', ')
    const reset = seconds(result.resetMs)
    if (draft === 7) {
      headers['RateLimit'] = `limit=${result.limit}, remaining=${result.remaining}, reset=${reset}`
    } else {
      headers['RateLimit-Limit'] = String(result.limit)
      headers['RateLimit-Remaining'] = String(result.remaining)
      headers['RateLimit-Reset'] = String(reset)
    }
  } else if (options.ietf !== false) {
    headers['RateLimit-Policy'] = result.policies
      .map((p) => `${sfString(p.name)};q=${p.limit};w=${seconds(p.windowMs)}`)
      .join(', ')
    headers['RateLimit'] = result.policies
      .map((p) => `${sfString(p.name)};r=${p.remaining};t=${seconds(p.resetMs)}`)
      .join(', ')
  }
  if (options.legacy) {
    headers['X-RateLimit-Limit'] = String(result.limit)
    headers['X-RateLimit-Remaining'] = String(result.remaining)
    headers['X-RateLimit-Reset'] = String(Math.ceil((now + result.resetMs) / 1000))
  }
  if (!result.allowed && Number.isFinite(result.retryAfterMs)) {
    headers['Retry-After'] = String(Math.max(1, seconds(result.retryAfterMs)))
  }
  return headers
}

/** `Retry-After` seconds for a guard or limiter wait; undefined for a permanent lockout. */
export function retryAfterSeconds(ms: number): string | undefined {
  return Number.isFinite(ms) ? String(Math.max(1, seconds(ms))) : undefined
}
