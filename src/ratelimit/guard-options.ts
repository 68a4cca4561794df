import { InvalidOptionError } from '../errors.js'
import type { Clock } from '../internal/index.js'
import { type Duration, describe, wholeMs } from '../internal/index.js'
import type { GuardConfig } from './guard-backend.js'
import type { UserNormalization } from './identity.js'
import type { ProtectionStore } from './limiter.js'
import { MAX_RULE_MS } from './rules.js'

/** What the guard knows about a login attempt. */
export interface LoginAttempt {
  readonly username?: string | undefined
  /** The client address: pass `clientIp(req, { trustProxy })`, not the socket peer, behind proxies. */
  readonly ip?: string | undefined
  readonly userAgent?: string | undefined
  readonly [extra: string]: unknown
}

/** An attribute of a login attempt that a lockout can key on. */
export type LockAttribute = 'ip' | 'username' | 'userAgent'

/**
 * One lock: an attribute, a combination (`['username', 'ip']` locks that pair only), or a callback
 * returning the lock's key (undefined: this lock does not apply to the attempt).
 */
export type LockBy =
  | LockAttribute
  | readonly LockAttribute[]
  | ((attempt: LoginAttempt) => string | undefined)

/** One step of a login guard's escalating lockouts: from how many failures, and for how long. */
export interface LockoutTier {
  /** Failures at which this tier starts. */
  readonly failures: number
  /** How long it locks; `null` for ever. */
  readonly coolOff: Duration | null
}

/** What a login guard reports when it locks an attempt out. */
export interface LockoutEvent {
  readonly attempt: LoginAttempt
  readonly failures: number
  /** `Infinity` for a permanent lockout. */
  readonly retryAfterMs: number
}

/** Options of `createLoginGuard`: the store, the allowance, the lockout tiers and what to key on. */
export interface LoginGuardOptions {
  readonly store?: ProtectionStore
  /** Failures that lock (django-axes AXES_FAILURE_LIMIT). Default 5. Ignored with `tiers`. */
  readonly failureLimit?: number
  /** How long a lockout lasts; `null` (default, as in django-axes) locks until `succeed` or an admin `unlock`. */
  readonly coolOff?: Duration | null
  /** Opt-in growing lockouts, e.g. `[{ failures: 3, coolOff: '15m' }, { failures: 6, coolOff: '2h' }, { failures: 10, coolOff: '24h' }]`. */
  readonly tiers?: readonly LockoutTier[]
  /** With tiers: how long failures are remembered after the last one. Default the longest tier's cool-off. */
  readonly failureMemory?: Duration | null
  /** Independent locks; any one locks the attempt. Default `['ip']`. */
  readonly lockBy?: readonly LockBy[]
  /** IPv6 clients are one identity per network of this many bits. Default 64, as the middleware. */
  readonly ipv6Prefix?: number
  /** How usernames become identities (see `UserNormalization`). Default trimmed, NFKC, case-folded. */
  readonly normalizeUser?: UserNormalization
  /** A failure reported while locked restarts the cool-off (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT). Default true. */
  readonly extendOnFailure?: boolean
  /** How long a `check` reservation waits for `fail`/`succeed` before it lapses. Default `'30s'`. */
  readonly reservation?: Duration
  /** Never locked (IPs and CIDR ranges). */
  readonly allowList?: readonly string[]
  /** Always locked (IPs and CIDR ranges). */
  readonly denyList?: readonly string[]
  /** Called when a failure starts a lockout. */
  readonly onLockout?: (event: LockoutEvent) => void
  /**
   * In-process guard only: the most lock records kept. When full, unlocked records go first (least
   * recently used); lockouts are never evicted, and a new identity is refused (`reason: 'full'`)
   * when only lockouts are left. Default 100,000. The records live beside the memory store, not
   * in its LRU (so its own eviction cannot drop a lockout); guards on one store share one table,
   * sized by the first.
   */
  readonly maxRecords?: number
  /** Lockout log lines kept (newest first in `lockoutLog()`). Default 1,000. */
  readonly logSize?: number
  readonly prefix?: string
  /** Longest wait for the store; then the call rejects with StoreUnavailableError. Default `'500ms'`. */
  readonly timeout?: Duration
  readonly clock?: Clock
}

/** A whole number >= 1, or {@link InvalidOptionError} naming the guard option. */
export function positiveInt(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `createLoginGuard ${option} must be a whole number >= 1, got ${describe(value)}`,
    )
  }
  return value
}

const coolOffMs = (value: Duration | null, option: string) =>
  value === null ? -1 : wholeMs(value, 0, `createLoginGuard ${option}`, { min: 1, max: MAX_RULE_MS })

/** The guard's options as the backends need them: tiers sorted, durations in whole milliseconds. */
export function buildConfig(options: LoginGuardOptions): GuardConfig {
  const reserveMs = wholeMs(options.reservation, '30s', 'createLoginGuard reservation', {
    min: 1,
    max: MAX_RULE_MS,
  })
  const extend = options.extendOnFailure ?? true
  if (options.tiers !== undefined) {
    if (!Array.isArray(options.tiers) || options.tiers.length === 0) {
      throw new InvalidOptionError(
        "createLoginGuard tiers must be a non-empty list such as [{ failures: 3, coolOff: '15m' }, { failures: 6, coolOff: '2h' }]",
      )
    }
    const tiers = options.tiers
      .map((t, i) => ({
        failures: positiveInt(t.failures, `tiers[${i}].failures`),
        ms: coolOffMs(t.coolOff, `tiers[${i}].coolOff`),
      }))
      .sort((a, b) => a.failures - b.failures)
    if (new Set(tiers.map((t) => t.failures)).size !== tiers.length) {
      throw new InvalidOptionError('createLoginGuard tiers must have different failure counts')
    }
    const longest = tiers.some((t) => t.ms === -1) ? -1 : Math.max(...tiers.map((t) => t.ms))
    const memory = options.failureMemory
    const forgetMs =
      memory === undefined
        ? longest
        : memory === null
          ? -1
          : wholeMs(memory, 0, 'createLoginGuard failureMemory', { max: MAX_RULE_MS })
    return { tiers, resetOnExpiry: false, extend, reserveMs, forgetMs }
  }
  const failures = positiveInt(options.failureLimit ?? 5, 'failureLimit')
  const ms = coolOffMs(options.coolOff ?? null, 'coolOff')
  return { tiers: [{ failures, ms }], resetOnExpiry: true, extend, reserveMs, forgetMs: ms }
}
