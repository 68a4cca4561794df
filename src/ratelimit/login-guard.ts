import { InvalidOptionError } from '../errors.js'
import { type Clock, systemClock } from '../internal/clock.js'
import { type Duration, describe, requireDuration } from '../internal/duration.js'
import { resolveBacking } from './backend.js'
import { withDeadline } from './deadline.js'
import {
  type GuardBackend,
  type GuardConfig,
  MemoryGuardBackend,
  RedisGuardBackend,
} from './guard-backend.js'
import { type AddressList, addressList, normalizeIp } from './ip.js'
import type { ProtectionStore } from './limiter.js'

/** What the guard knows about a login attempt. */
export interface LoginAttempt {
  readonly username?: string | undefined
  readonly ip?: string | undefined
  readonly userAgent?: string | undefined
  readonly [extra: string]: unknown
}

export type LockAttribute = 'ip' | 'username' | 'userAgent'

/**
 * One lock: an attribute, a combination (`['username', 'ip']` locks that pair only), or a callback
 * returning the lock's key (undefined: this lock does not apply to the attempt).
 */
export type LockBy =
  | LockAttribute
  | readonly LockAttribute[]
  | ((attempt: LoginAttempt) => string | undefined)

export interface LockoutTier {
  /** Failures at which this tier starts. */
  readonly failures: number
  /** How long it locks; `null` for ever. */
  readonly coolOff: Duration | null
}

export interface LockoutEvent {
  readonly attempt: LoginAttempt
  readonly failures: number
  /** `Infinity` for a permanent lockout. */
  readonly retryAfterMs: number
}

export interface LoginGuardOptions {
  readonly store?: ProtectionStore
  /** Failures that lock (django-axes AXES_FAILURE_LIMIT). Default 5. Ignored with `tiers`. */
  readonly failureLimit?: number
  /** How long a lockout lasts; `null` (default, as in django-axes) locks until `succeed` or an admin reset. */
  readonly coolOff?: Duration | null
  /** Opt-in growing lockouts, e.g. `[{ failures: 3, coolOff: '15m' }, { failures: 6, coolOff: '2h' }, { failures: 10, coolOff: '24h' }]`. */
  readonly tiers?: readonly LockoutTier[]
  /** With tiers: how long failures are remembered after the last one. Default the longest tier's cool-off. */
  readonly failureMemory?: Duration | null
  /** Independent locks; any one locks the attempt. Default `['ip']`. */
  readonly lockBy?: readonly LockBy[]
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
  readonly prefix?: string
  /** Longest wait for the store; then the call rejects with StoreUnavailableError. Default `'500ms'`. */
  readonly timeout?: Duration
  readonly clock?: Clock
}

export interface GuardCheck {
  readonly locked: boolean
  /** For `Retry-After`: 0 when not locked, `Infinity` when locked for ever. */
  readonly retryAfterMs: number
  /** Why: `'locked'` (a lockout), `'busy'` (attempts in flight fill the allowance), `'deny-list'`. */
  readonly reason?: 'locked' | 'busy' | 'deny-list' | 'allow-list'
}

export interface GuardFailure {
  /** Locked out after this failure. */
  readonly locked: boolean
  readonly retryAfterMs: number
  readonly failures: number
}

export interface LoginGuard {
  /** Reserves one attempt atomically; `locked` means refuse it without checking the password. */
  check(attempt: LoginAttempt): Promise<GuardCheck>
  /** The password was wrong: turns the reservation into a failure (locking when the limit is met). */
  fail(attempt: LoginAttempt): Promise<GuardFailure>
  /** The password was right: forgets the failures and lockout of every lock of the attempt. */
  succeed(attempt: LoginAttempt): Promise<void>
}

const ATTRIBUTES: readonly LockAttribute[] = ['ip', 'username', 'userAgent']

function attributeValue(attempt: LoginAttempt, name: LockAttribute): string {
  const value = attempt[name]
  if (value === undefined || value === null) return ''
  const text = String(value)
  return name === 'ip' ? normalizeIp(text) : text
}

function compileLock(lock: LockBy): (attempt: LoginAttempt) => string | undefined {
  if (typeof lock === 'function')
    return (attempt) => {
      const key = lock(attempt)
      return key === undefined ? undefined : `fn=${encodeURIComponent(key)}`
    }
  const names = typeof lock === 'string' ? [lock] : lock
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => ATTRIBUTES.includes(n))) {
    throw new InvalidOptionError(
      `createLoginGuard lockBy entries must be 'ip', 'username', 'userAgent', a list of those, or a function; got ${describe(lock)}`,
    )
  }
  return (attempt) => names.map((n) => `${n}=${encodeURIComponent(attributeValue(attempt, n))}`).join('&')
}

function positiveInt(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `createLoginGuard ${option} must be a whole number >= 1, got ${describe(value)}`,
    )
  }
  return value
}

const coolOffMs = (value: Duration | null, option: string) =>
  value === null ? -1 : Math.max(1, requireDuration(value, option))

function buildConfig(options: LoginGuardOptions): GuardConfig {
  const reserveMs = Math.max(1, requireDuration(options.reservation ?? '30s', 'reservation'))
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
      memory === undefined ? longest : memory === null ? -1 : requireDuration(memory, 'failureMemory')
    return { tiers, resetOnExpiry: false, extend, reserveMs, forgetMs }
  }
  const failures = positiveInt(options.failureLimit ?? 5, 'failureLimit')
  const ms = coolOffMs(options.coolOff ?? null, 'coolOff')
  return { tiers: [{ failures, ms }], resetOnExpiry: true, extend, reserveMs, forgetMs: ms }
}

/**
 * Creates a login guard at django-axes parity, exact under parallel attempts: `check` reserves an
 * attempt in the same atomic step that decides it, so N concurrent wrong passwords let exactly
 * `failureLimit` through. In Redis, the keys of one attempt share a hash tag (with several locks,
 * every key of the guard shares one slot).
 */
export function createLoginGuard(options: LoginGuardOptions = {}): LoginGuard {
  const config = buildConfig(options)
  const clock = options.clock ?? systemClock
  const backing = resolveBacking(options.store, 'createLoginGuard', clock)
  const backend: GuardBackend =
    backing.kind === 'redis'
      ? new RedisGuardBackend(backing.runner)
      : new MemoryGuardBackend(backing.map, clock)
  const locks = (options.lockBy ?? ['ip']).map(compileLock)
  if (locks.length === 0) throw new InvalidOptionError('createLoginGuard lockBy must name at least one lock')
  const allow: AddressList | undefined = options.allowList
    ? addressList(options.allowList, 'allowList')
    : undefined
  const deny: AddressList | undefined = options.denyList
    ? addressList(options.denyList, 'denyList')
    : undefined
  const prefix = options.prefix ?? 'cachekit:guard'
  const timeoutMs = requireDuration(options.timeout ?? 500, 'timeout')
  const onLockout = options.onLockout

  const keysOf = (attempt: LoginAttempt): string[] => {
    if (attempt === null || typeof attempt !== 'object') {
      throw new InvalidOptionError(
        `A login attempt must be an object such as { username, ip }, got ${describe(attempt)}`,
      )
    }
    const ids = locks.map((lock) => lock(attempt)).filter((id): id is string => id !== undefined)
    // One hash tag for every key of the attempt, so one script can change them all in Cluster. It
    // depends on the configured locks only, so a lock's key is the same whichever others apply.
    return locks.length === 1 ? ids.map((id) => `${prefix}:{${id}}`) : ids.map((id) => `${prefix}:{*}:${id}`)
  }
  const listed = (attempt: LoginAttempt, list: AddressList | undefined) =>
    list !== undefined && typeof attempt?.ip === 'string' && list.has(attempt.ip)
  const run = (op: 'check' | 'fail' | 'succeed', keys: string[]) =>
    withDeadline(backend.run(op, keys, config), timeoutMs, `login guard ${op}`)
  const retryOf = (ms: number) => (ms === -1 ? Number.POSITIVE_INFINITY : ms)

  return {
    async check(attempt) {
      if (listed(attempt, allow)) return { locked: false, retryAfterMs: 0, reason: 'allow-list' }
      if (listed(attempt, deny))
        return { locked: true, retryAfterMs: Number.POSITIVE_INFINITY, reason: 'deny-list' }
      const keys = keysOf(attempt)
      if (keys.length === 0) return { locked: false, retryAfterMs: 0 }
      const reply = await run('check', keys)
      if (!reply.locked) return { locked: false, retryAfterMs: 0 }
      return { locked: true, retryAfterMs: retryOf(reply.retryMs), reason: reply.busy ? 'busy' : 'locked' }
    },
    async fail(attempt) {
      if (listed(attempt, allow) || listed(attempt, deny))
        return { locked: false, retryAfterMs: 0, failures: 0 }
      const keys = keysOf(attempt)
      if (keys.length === 0) return { locked: false, retryAfterMs: 0, failures: 0 }
      const reply = await run('fail', keys)
      const result = { locked: reply.locked, retryAfterMs: retryOf(reply.retryMs), failures: reply.failures }
      if (reply.newlyLocked && onLockout) {
        try {
          onLockout({ attempt, failures: reply.failures, retryAfterMs: result.retryAfterMs })
        } catch {
          // A failing listener must not turn a lockout into an error for the login route.
        }
      }
      return result
    },
    async succeed(attempt) {
      if (listed(attempt, allow) || listed(attempt, deny)) return
      const keys = keysOf(attempt)
      if (keys.length > 0) await run('succeed', keys)
    },
  }
}
