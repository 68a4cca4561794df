import { CacheClosedError, InvalidOptionError } from '../errors.js'
import { type Clock, describe, systemClock, wholeMs } from '../internal/index.js'
import { publishDegraded, publishLoginGuard } from '../observe/index.js'
import { resolveBacking } from './backend.js'
import { withDeadline } from './deadline.js'
import { InvalidIdentityError } from './errors.js'
import { type GuardBackend, type GuardOp, GuardTable, MemoryGuardBackend } from './guard-backend.js'
import { type LockoutLog, type LockoutLogEntry, MemoryLockoutLog, RedisLockoutLog } from './guard-log.js'
import {
  buildConfig,
  type LockAttribute,
  type LockBy,
  type LoginAttempt,
  type LoginGuardOptions,
  positiveInt,
} from './guard-options.js'
import { RedisGuardBackend } from './guard-redis.js'
import {
  canonicalIp,
  checkIpv6Prefix,
  checkUserNormalization,
  ipIdentity,
  normalizeUsername,
  type UserNormalization,
} from './identity.js'
import { type AddressList, addressList } from './ip.js'

export type { LockoutLogEntry } from './guard-log.js'
export type {
  LockAttribute,
  LockBy,
  LockoutEvent,
  LockoutTier,
  LoginAttempt,
  LoginGuardOptions,
} from './guard-options.js'

/** What `loginGuard.check` answers before a login attempt: whether it may go ahead, and if not, why and for how long. */
export interface GuardCheck {
  readonly locked: boolean
  /** For `Retry-After`: 0 when not locked, `Infinity` when locked for ever. */
  readonly retryAfterMs: number
  /**
   * Why: `'locked'` (a lockout), `'busy'` (attempts in flight fill the allowance), `'deny-list'`,
   * `'allow-list'`, or `'full'` (the in-process guard holds only lockouts and cannot track one more).
   */
  readonly reason?: 'locked' | 'busy' | 'deny-list' | 'allow-list' | 'full'
}

/** What `loginGuard.fail` answers after a failed login: the failure count and whether it locked the attempt out. */
export interface GuardFailure {
  /** Locked out after this failure. */
  readonly locked: boolean
  readonly retryAfterMs: number
  readonly failures: number
}

/** Who made an admin call and why, for the lockout log. */
export interface GuardAdminOptions {
  readonly by?: string
  readonly note?: string
}

/** What a login guard has done, for dashboards: checks, failures, lockouts and degraded decisions. */
export interface LoginGuardStats {
  /** Attempts refused because a lock was in force. */
  readonly refused: number
  /** Failures reported. */
  readonly failures: number
  /** Lockouts started. */
  readonly lockouts: number
  /** Lock records changed by admin `unlock` and `reset`. */
  readonly adminChanges: number
  /** In-process guard: records held, unlocked records evicted to make room, attempts refused when full. */
  readonly records: number
  readonly evictions: number
  readonly refusedFull: number
  /** Lockout log lines that could not be written (the store failed after the lockout itself). */
  readonly logErrors: number
}

/** Brute-force protection for a login form: `check` before, `fail` or `succeed` after each attempt. */
export interface LoginGuard {
  /** Reserves one attempt atomically; `locked` means refuse it without checking the password. */
  check(attempt: LoginAttempt): Promise<GuardCheck>
  /** The password was wrong: turns the reservation into a failure (locking when the limit is met). */
  fail(attempt: LoginAttempt): Promise<GuardFailure>
  /** The password was right: forgets the failures and lockout of every lock of the attempt. */
  succeed(attempt: LoginAttempt): Promise<void>
  /**
   * Admin: ends the lockouts of a user, an IP, or the pair (`{ username }`, `{ ip }`, `{ username,
   * ip }`), as if they had expired now; with tiers the failures stay, so the next lockout is
   * longer. Also the way out of a permanent lockout. Locks on attributes the target does not give
   * (a `['username', 'ip']` lock unlocked by username) are found through the lockout log. Resolves
   * to the number of lockouts lifted; logged.
   */
  unlock(target: LoginAttempt, options?: GuardAdminOptions): Promise<number>
  /** Admin: as {@link unlock}, but forgets everything (failures, reservations): a fresh start. */
  reset(target: LoginAttempt, options?: GuardAdminOptions): Promise<number>
  /** The lockout log, newest first (lockouts, unlocks, resets), at most `limit` lines (default 100). */
  lockoutLog(limit?: number): Promise<LockoutLogEntry[]>
  stats(): LoginGuardStats
  /** Later calls reject with `CacheClosedError`; the store stays open. Settles at once. Idempotent. */
  close(): Promise<void>
}

const ATTRIBUTES: readonly LockAttribute[] = ['ip', 'username', 'userAgent']
const LONE_SURROGATE = /\p{Cs}/u
/** Tables of the in-process guards, one per memory store: guards on one store share their records. */
const tables = new WeakMap<object, GuardTable>()

function wellFormed(text: string, what: string): string {
  if (LONE_SURROGATE.test(text)) {
    throw new InvalidIdentityError(
      `A login attempt's ${what} holds a lone UTF-16 surrogate: refuse the attempt`,
    )
  }
  return text
}

interface CompiledLock {
  /** The lock's identity for an attempt; undefined when it does not apply. */
  id(attempt: LoginAttempt): string | undefined
  /** The identity only when the target names every attribute of the lock (admin calls). */
  exact(target: LoginAttempt): string | undefined
}

/**
 * Creates a login guard at django-axes parity, exact under parallel attempts: `check` reserves an
 * attempt in the same atomic step that decides it, so N concurrent wrong passwords let exactly
 * `failureLimit` through. Identities are normalised (see `ipIdentity`, `normalizeUsername`), so
 * one address or login written many ways is one identity. In Redis, the keys of one attempt share
 * a hash tag (with several locks, every key of the guard shares one slot).
 */
export function createLoginGuard(options: LoginGuardOptions = {}): LoginGuard {
  const config = buildConfig(options)
  const clock: Clock = options.clock ?? systemClock
  const ipv6Prefix = checkIpv6Prefix(options.ipv6Prefix ?? 64)
  const userMode: UserNormalization = checkUserNormalization(options.normalizeUser)
  const logSize = positiveInt(options.logSize ?? 1000, 'logSize')
  const backing = resolveBacking(options.store, 'createLoginGuard', clock)
  const prefix = options.prefix ?? 'cachekit:guard'
  if (typeof prefix !== 'string') throw new InvalidOptionError('createLoginGuard prefix must be a string')
  const counts = { refused: 0, failures: 0, lockouts: 0, adminChanges: 0, logErrors: 0, evictionNotes: 0 }
  let table: GuardTable | undefined
  let backend: GuardBackend
  let log: LockoutLog
  if (backing.kind === 'redis') {
    const redis = new RedisGuardBackend(backing.runner)
    backend = redis
    log = new RedisLockoutLog(redis, `${prefix}:log`, logSize)
  } else {
    const maxRecords = positiveInt(options.maxRecords ?? 100_000, 'maxRecords')
    table = tables.get(backing.owner)
    if (!table) tables.set(backing.owner, (table = new GuardTable(maxRecords)))
    backend = new MemoryGuardBackend(table, clock, (evicted) =>
      publishDegraded({
        source: 'login-guard',
        kind: 'evicted-record',
        reason: `${evicted} unlocked record(s) evicted: the guard holds ${maxRecords} records`,
      }),
    )
    log = new MemoryLockoutLog(logSize)
  }
  const timeoutMs = wholeMs(options.timeout, 500, 'createLoginGuard timeout', { min: 1 })
  const identity = (attempt: LoginAttempt, name: LockAttribute): string | undefined => {
    const value = attempt[name]
    if (value === undefined || value === null || value === '') return undefined
    const text = String(value)
    if (name === 'username') return normalizeUsername(text, userMode)
    if (name === 'ip') return ipIdentity(text, ipv6Prefix) ?? `?${wellFormed(text.trim(), 'ip')}`
    return wellFormed(text, name)
  }
  const describeLock = (lock: LockBy): string =>
    typeof lock === 'function' ? 'custom' : typeof lock === 'string' ? lock : lock.join('+')
  const compile = (lock: LockBy): CompiledLock => {
    if (typeof lock === 'function') {
      const id = (attempt: LoginAttempt) => {
        const key = lock(attempt)
        if (key === undefined) return undefined
        if (typeof key !== 'string')
          throw new InvalidOptionError('A lockBy function must return a string or undefined')
        return `fn=${encodeURIComponent(wellFormed(key, 'lock key'))}`
      }
      return { id, exact: id }
    }
    const names = typeof lock === 'string' ? [lock] : lock
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => ATTRIBUTES.includes(n))) {
      throw new InvalidOptionError(
        `createLoginGuard lockBy entries must be 'ip', 'username', 'userAgent', a list of those, or a function; got ${describe(lock)}`,
      )
    }
    const idOf = (attempt: LoginAttempt, exact: boolean) => {
      const parts: string[] = []
      for (const n of names) {
        const value = identity(attempt, n)
        if (value === undefined && exact) return undefined
        parts.push(`${n}=${encodeURIComponent(value ?? '')}`)
      }
      return parts.join('&')
    }
    return { id: (a) => idOf(a, false), exact: (a) => idOf(a, true) }
  }
  const lockBy = options.lockBy ?? ['ip']
  const locks = lockBy.map(compile)
  const lockNames = lockBy.map(describeLock)
  if (locks.length === 0) throw new InvalidOptionError('createLoginGuard lockBy must name at least one lock')
  const allow: AddressList | undefined = options.allowList
    ? addressList(options.allowList, 'allowList')
    : undefined
  const deny: AddressList | undefined = options.denyList
    ? addressList(options.denyList, 'denyList')
    : undefined
  const onLockout = options.onLockout
  let closed = false

  const checkAttempt = (attempt: LoginAttempt) => {
    if (closed) throw new CacheClosedError('This login guard was closed; create a new one')
    if (attempt === null || typeof attempt !== 'object') {
      throw new InvalidOptionError(
        `A login attempt must be an object such as { username, ip }, got ${describe(attempt)}`,
      )
    }
  }
  // One hash tag for every key of the attempt, so one script can change them all in Cluster. It
  // depends on the configured locks only, so a lock's key is the same whichever others apply.
  const keyOf = (id: string) => (locks.length === 1 ? `${prefix}:{${id}}` : `${prefix}:{*}:${id}`)
  const idsOf = (attempt: LoginAttempt): string[] => {
    checkAttempt(attempt)
    return locks.map((lock) => lock.id(attempt)).filter((id): id is string => id !== undefined)
  }
  /** The names of the locks that apply to an attempt, in the order of `idsOf`. */
  const namesOf = (attempt: LoginAttempt): string[] =>
    locks.flatMap((lock, i) => (lock.id(attempt) === undefined ? [] : [lockNames[i] as string]))
  const listed = (attempt: LoginAttempt, list: AddressList | undefined) =>
    list !== undefined && typeof attempt?.ip === 'string' && list.has(attempt.ip)
  const run = (op: GuardOp, keys: string[]) =>
    withDeadline(backend.run(op, keys, config), timeoutMs, `login guard ${op}`)
  const retryOf = (ms: number) => (ms === -1 ? Number.POSITIVE_INFINITY : ms)
  const writeLog = async (entry: LockoutLogEntry) => {
    try {
      await withDeadline(log.push(entry), timeoutMs, 'login guard log')
    } catch (error) {
      counts.logErrors++
      publishDegraded({ source: 'login-guard', kind: 'log-lost', reason: String(error) })
    }
  }
  const who = (attempt: LoginAttempt) => ({
    username: attempt.username ? normalizeUsername(String(attempt.username), userMode) : undefined,
    ip: attempt.ip ? (canonicalIp(String(attempt.ip)) ?? String(attempt.ip)) : undefined,
    userAgent: attempt.userAgent ? String(attempt.userAgent) : undefined,
  })
  const matches = (entry: LockoutLogEntry, target: LoginAttempt) => {
    const want = who(target)
    if (want.username !== undefined && entry.username !== want.username) return false
    if (want.userAgent !== undefined && entry.userAgent !== want.userAgent) return false
    if (want.ip !== undefined) {
      const group = (ip: string | undefined) =>
        ip === undefined ? undefined : (ipIdentity(ip, ipv6Prefix) ?? ip)
      if (group(entry.ip) !== group(want.ip)) return false
    }
    return true
  }
  const admin = async (kind: 'unlock' | 'reset', target: LoginAttempt, opts: GuardAdminOptions = {}) => {
    checkAttempt(target)
    if (!target.username && !target.ip && !target.userAgent) {
      throw new InvalidOptionError(
        `guard.${kind} needs a target such as { username }, { ip } or { username, ip }`,
      )
    }
    const ids = new Set<string>()
    for (const lock of locks) {
      const id = lock.exact(target)
      if (id !== undefined) ids.add(id)
    }
    for (const entry of await withDeadline(log.read(logSize), timeoutMs, `login guard ${kind}`)) {
      if (entry.kind === 'lockout' && entry.lock && matches(entry, target)) ids.add(entry.lock)
    }
    let records = 0
    for (const id of ids) {
      const reply = await run(kind === 'unlock' ? 'unlock' : 'succeed', [keyOf(id)])
      records += kind === 'unlock' ? reply.newly.length : 1
    }
    counts.adminChanges += records
    await writeLog({
      kind,
      at: clock.now(),
      ...who(target),
      reason: opts.note ?? `admin ${kind}`,
      by: opts.by,
      records,
    })
    return records
  }

  return {
    async check(attempt) {
      checkAttempt(attempt)
      if (listed(attempt, allow)) return { locked: false, retryAfterMs: 0, reason: 'allow-list' }
      if (listed(attempt, deny)) {
        counts.refused++
        publishLoginGuard({ prefix, action: 'refused', reason: 'deny-list' })
        return { locked: true, retryAfterMs: Number.POSITIVE_INFINITY, reason: 'deny-list' }
      }
      const ids = idsOf(attempt)
      if (ids.length === 0) return { locked: false, retryAfterMs: 0 }
      const reply = await run('check', ids.map(keyOf))
      if (!reply.locked) return { locked: false, retryAfterMs: 0 }
      counts.refused++
      if (reply.full) {
        publishDegraded({ source: 'login-guard', kind: 'refused-full', operation: 'check' })
        publishLoginGuard({ prefix, action: 'refused', reason: 'full' })
        return { locked: true, retryAfterMs: reply.retryMs, reason: 'full' }
      }
      const reason = reply.busy ? 'busy' : 'locked'
      publishLoginGuard({ prefix, action: 'refused', reason })
      return { locked: true, retryAfterMs: retryOf(reply.retryMs), reason }
    },
    async fail(attempt) {
      checkAttempt(attempt)
      if (listed(attempt, allow) || listed(attempt, deny))
        return { locked: false, retryAfterMs: 0, failures: 0 }
      const ids = idsOf(attempt)
      if (ids.length === 0) return { locked: false, retryAfterMs: 0, failures: 0 }
      counts.failures++
      const reply = await run('fail', ids.map(keyOf))
      publishLoginGuard({ prefix, action: 'failure' })
      if (reply.full) publishDegraded({ source: 'login-guard', kind: 'refused-full', operation: 'fail' })
      const result = { locked: reply.locked, retryAfterMs: retryOf(reply.retryMs), failures: reply.failures }
      if (reply.newly.length > 0) {
        counts.lockouts += reply.newly.length
        const now = clock.now()
        const names = namesOf(attempt)
        for (const i of reply.newly) {
          publishLoginGuard({
            prefix,
            action: 'lockout',
            reason: reply.retryMs === -1 ? 'permanent' : 'temporary',
            lock: names[i],
          })
          await writeLog({
            kind: 'lockout',
            at: now,
            lock: ids[i],
            ...who(attempt),
            failures: reply.failures,
            until: reply.retryMs === -1 ? null : now + reply.retryMs,
            reason: `${reply.failures} failed logins`,
          })
        }
        try {
          onLockout?.({ attempt, failures: reply.failures, retryAfterMs: result.retryAfterMs })
        } catch {
          // A failing listener must not turn a lockout into an error for the login route.
        }
      }
      return result
    },
    async succeed(attempt) {
      checkAttempt(attempt)
      if (listed(attempt, allow) || listed(attempt, deny)) return
      const ids = idsOf(attempt)
      if (ids.length > 0) await run('succeed', ids.map(keyOf))
    },
    unlock: (target, opts) => admin('unlock', target, opts),
    reset: (target, opts) => admin('reset', target, opts),
    async lockoutLog(limit = 100) {
      if (closed) throw new CacheClosedError('This login guard was closed; create a new one')
      return withDeadline(log.read(positiveInt(limit, 'lockoutLog limit')), timeoutMs, 'login guard log')
    },
    stats() {
      return {
        refused: counts.refused,
        failures: counts.failures,
        lockouts: counts.lockouts,
        adminChanges: counts.adminChanges,
        records: table?.size ?? 0,
        evictions: table?.evictions ?? 0,
        refusedFull: table?.refused ?? 0,
        logErrors: counts.logErrors,
      }
    },
    async close() {
      closed = true
    },
  }
}
