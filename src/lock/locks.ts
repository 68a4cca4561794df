import { CacheClosedError, InvalidKeyError, InvalidOptionError } from '../errors.js'
import { type Clock, requireTimeout, systemClock } from '../internal/index.js'
import { publishDegraded } from '../observe/index.js'
import { backingOf } from '../stores/index.js'
import { LockAbortedError, LockTimeoutError } from './errors.js'
import { type HandleOwner, Lease } from './handle.js'
import { memoryLockBackend } from './memory.js'
import { CLAIM_MS, lockKey, redisLockBackend, type SharedLockStore } from './redis.js'
import type { Attempt, Grant, LockBackend, LockHandle, LockOptions, LockStats } from './types.js'
import { Waiters } from './waiters.js'

/** The longest lock name; the key adds a short prefix. */
export const MAX_LOCK_NAME_LENGTH = 512
const DEFAULT_TTL = 10_000
const DEFAULT_WAIT = 10_000
/** How long close() gives held locks to be released. */
const CLOSE_RELEASE_MS = 1000

/** Options of {@link createLocks}. */
export interface LocksOptions {
  /**
   * Where locks live: a memory store (`memoryStore()`, one process) or a Redis store
   * (`redisStore()`, every process on that Redis), or a cache built on one. Recognised by what it
   * declares (`BACKING`) or offers, never by class: a store with `scriptRunner()` and `channel()`
   * is shared; the memory store is local.
   */
  readonly store: object
  /** Prepended to every lock name, to keep apps on one Redis apart. Default `''`. */
  readonly prefix?: string
  /** Time source for lock expiry in a memory store (tests move it). Ignored for Redis. */
  readonly clock?: Clock
}

function pickBackend(options: LocksOptions): LockBackend {
  const backing = backingOf(options.store)
  const store = (backing?.store ?? options.store) as Partial<SharedLockStore> | null
  if (store !== null && typeof store === 'object') {
    if (typeof store.scriptRunner === 'function' && typeof store.channel === 'function') {
      return redisLockBackend(store as SharedLockStore)
    }
    if (backing?.kind === 'memory') return memoryLockBackend(backing.store, options.clock ?? systemClock)
  }
  throw new InvalidOptionError(
    'createLocks needs { store }: a memoryStore() for one process, or a redisStore() for many',
  )
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.length > MAX_LOCK_NAME_LENGTH) {
    throw new InvalidKeyError(
      `A lock name must be a non-empty string of at most ${MAX_LOCK_NAME_LENGTH} characters, got ${typeof name === 'string' ? `${name.length} characters` : typeof name}`,
    )
  }
  if (name.includes('{') || name.includes('}')) {
    // The name becomes the Cluster hash tag of the lock and its fence counter.
    throw new InvalidKeyError(`Lock names cannot contain "{" or "}": got "${name.slice(0, 100)}"`)
  }
  return name
}

/**
 * Named mutual-exclusion locks with fencing tokens, over a memory or Redis store. See
 * {@link createLocks}.
 */
export class Locks {
  readonly #backend: LockBackend
  readonly #prefix: string
  readonly #waiters: Waiters
  readonly #held = new Set<Lease>()
  readonly #owner: HandleOwner
  #closing: Promise<void> | undefined
  #counts = { acquired: 0, released: 0, lost: 0, timeouts: 0, errors: 0 }

  constructor(options: LocksOptions) {
    this.#backend = pickBackend(options)
    const prefix = options.prefix ?? ''
    if (typeof prefix !== 'string') throw new InvalidOptionError('createLocks prefix must be a string')
    if (prefix !== '') checkName(prefix)
    this.#prefix = prefix
    this.#waiters = new Waiters(this.#backend)
    this.#owner = {
      backend: this.#backend,
      settled: (handle, lost) => {
        if (!this.#held.delete(handle)) return
        if (lost) {
          this.#counts.lost++
          const reason = handle.signal.reason
          publishDegraded({
            source: 'lock',
            kind: 'lock-lost',
            operation: 'lock',
            reason: reason instanceof Error ? reason.message : undefined,
          })
        } else this.#counts.released++
        // A local release needs no round trip through the store to wake this process's next waiter.
        // A shared store's release grants the lock to a queued waiter (or wakes them) by itself.
        if (!lost && !this.#backend.shared) this.#waiters.wake(handle.key)
      },
      absorbed: (error, operation) => this.#absorbed(error, operation),
    }
  }

  /** True when the locks are shared between processes (a Redis store). */
  get shared(): boolean {
    return this.#backend.shared
  }

  /**
   * Acquires the lock `name`, waiting up to `wait` for its holder to release it (on a Redis store
   * the release grants the lock to a waiter directly, with a new token, in the same script; the
   * waiter also re-checks after a short back-off in case a message was lost, and when the holder's
   * TTL runs out). Rejects with `LockTimeoutError` when the wait ends, `LockAbortedError`
   * when `signal` aborts, `StoreUnavailableError` when the store cannot be reached (never a lock
   * that was not granted), `CacheClosedError` once closed.
   *
   * The lock is not extended automatically: extend it, or use {@link withLock}.
   */
  lock(name: string, options: LockOptions = {}): Promise<LockHandle> {
    return this.#acquire(name, options, false) as Promise<Lease>
  }

  /**
   * Acquires `name` if it is free now: the handle, or `undefined` when it is held (one round trip,
   * no wait). Errors as {@link lock}.
   */
  async tryLock(
    name: string,
    options: Omit<LockOptions, 'wait' | 'signal'> = {},
  ): Promise<LockHandle | undefined> {
    return this.#acquire(name, { ...options, wait: 0 }, false, true)
  }

  /**
   * Runs `fn` while holding `name`: acquires it as {@link lock} does, extends it every `ttl / 3`
   * while `fn` runs (the handle's `signal` aborts if that fails until the TTL runs out), and
   * releases it when `fn` settles. Resolves to what `fn` resolves to. A failed release is counted
   * (`stats().errors`) rather than thrown, since `fn`'s work is done; the lock then expires on its TTL.
   */
  async withLock<T>(
    name: string,
    fn: (lock: LockHandle) => T | Promise<T>,
    options: LockOptions = {},
  ): Promise<T> {
    const handle = (await this.#acquire(name, options, true)) as Lease
    try {
      return await fn(handle)
    } finally {
      await handle.release().catch((error: unknown) => this.#absorbed(error, 'release'))
    }
  }

  /** Counters of this instance; see {@link LockStats}. */
  stats(): LockStats {
    return { held: this.#held.size, waiting: this.#waiters.size, ...this.#counts }
  }

  /**
   * Rejects every wait in progress with `CacheClosedError`, releases the locks still held (up to
   * 1 s), and stops listening for releases. The store stays open: it is the caller's. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /**
   * A failure nobody awaits (a watchdog extension, withLock's release): counted and published on
   * the `cachekit:degraded` diagnostics channel (the store logs its own failures once per burst).
   */
  #absorbed(error: unknown, operation: string): void {
    this.#counts.errors++
    publishDegraded({
      source: 'lock',
      kind: `${operation}-failed`,
      operation,
      reason: error instanceof Error ? error.message : String(error),
    })
  }

  async #close(): Promise<void> {
    this.#waiters.closeAll(new CacheClosedError('These locks were closed; create new ones'))
    const releases = [...this.#held].map((handle) => handle.release().catch(() => false))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(releases),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_RELEASE_MS)
      }),
    ])
    clearTimeout(timer)
    await this.#waiters.unsubscribe()
  }

  /** Waits for the lock; with `probe`, one attempt that resolves to undefined when it is held. */
  async #acquire(
    name: string,
    options: LockOptions,
    watchdog: boolean,
    probe = false,
  ): Promise<Lease | undefined> {
    checkName(name)
    const ttl = requireTimeout(options.ttl ?? DEFAULT_TTL, 'ttl')
    if (ttl <= 0) throw new InvalidOptionError('Lock ttl must be greater than 0')
    const wait = requireTimeout(options.wait ?? DEFAULT_WAIT, 'wait')
    const signal = options.signal
    if (this.#closing) throw new CacheClosedError('These locks were closed; create new ones')
    if (signal?.aborted) throw aborted(name, signal)
    const key = lockKey(this.#prefix + name)
    // The uncontended path: one attempt, no waiter registered and nothing allocated for a wait.
    // The release messages seen so far are counted first: one that arrives while this attempt is
    // in flight is then not lost for the wait below (see Waiters.add).
    this.#waiters.subscribe()
    const seen = this.#waiters.messages
    // A call that may wait is queued by its first attempt already, so the release it waits for can
    // grant it the lock directly (see #wait).
    const n = probe || wait === 0 ? 0 : this.#waiters.start()
    const sentAt = performance.now()
    let attempt: Attempt
    let early: Grant | undefined
    try {
      attempt = await this.#backend.tryAcquire(key, ttl, n === 0 ? undefined : this.#waiters.idOf(n))
    } finally {
      // A grant that arrived meanwhile is taken by the wait below; it is stale if the attempt won
      // (a lock has one holder; the grant's claim ran out before this attempt).
      if (n !== 0) early = this.#waiters.started(n)
    }
    if ('token' in attempt) return this.#granted(name, key, attempt.token, ttl, sentAt, signal, watchdog)
    if (probe) return undefined
    return this.#wait(name, key, ttl, wait, signal, watchdog, sentAt, attempt.heldFor, seen, n, early)
  }

  /** The lock was granted: a handle, or (the caller gave up meanwhile) handed straight back. */
  #granted(
    name: string,
    key: string,
    token: number,
    ttl: number,
    sentAt: number,
    signal: AbortSignal | undefined,
    watchdog: boolean,
    claim?: string,
  ): Lease | Promise<never> {
    // A lock granted by a release is held for at most CLAIM_MS until extended, counted here from
    // the grant's arrival, which is later than the release that made it: half of that is kept as
    // the margin until the extension below (sent at once) answers.
    const held = claim === undefined ? ttl : Math.min(ttl, CLAIM_MS) / 2
    const lease = new Lease(this.#owner, name, key, token, ttl, sentAt, held)
    this.#held.add(lease)
    this.#counts.acquired++
    if (signal?.aborted || this.#closing) {
      // Granted as the caller gave up: hand it straight back.
      const error = this.#closing
        ? new CacheClosedError('These locks were closed; create new ones')
        : aborted(name, signal as AbortSignal)
      return lease.release().then(
        () => Promise.reject(error),
        () => Promise.reject(error),
      )
    }
    if (claim !== undefined) {
      lease.claim(claim).catch((error: unknown) => {
        if (lease.holding) this.#absorbed(error, 'extend')
      })
    }
    if (watchdog) lease.startWatchdog()
    return lease
  }

  /** The lock was held at the first attempt (`started`): waits for a release, then tries again. */
  async #wait(
    name: string,
    key: string,
    ttl: number,
    wait: number,
    signal: AbortSignal | undefined,
    watchdog: boolean,
    started: number,
    heldFor: number,
    seen: number,
    n: number,
    early: Grant | undefined,
  ): Promise<Lease> {
    // `n` 0: a call that does not wait.
    if (n === 0) throw this.#timedOut(name, started)
    const waiter = this.#waiters.add(key, signal, seen, n, early)
    const id = this.#waiters.idOf(n)
    try {
      for (;;) {
        // A release granted the lock to this wait: it runs now, with no further round trip.
        const granted = waiter.granted
        if (granted !== undefined) {
          return await this.#granted(name, key, granted, ttl, waiter.grantedAt, signal, watchdog, id)
        }
        const left = wait - (performance.now() - started)
        if (left <= 0) throw this.#timedOut(name, started)
        await waiter.next(left, heldFor)
        if (waiter.granted !== undefined) continue
        if (signal?.aborted) throw aborted(name, signal)
        const sentAt = performance.now()
        const attempt = await this.#backend.tryAcquire(key, ttl, id, true)
        if ('token' in attempt)
          return await this.#granted(name, key, attempt.token, ttl, sentAt, signal, watchdog)
        heldFor = attempt.heldFor
      }
    } finally {
      waiter.remove()
    }
  }

  #timedOut(name: string, started: number): LockTimeoutError {
    this.#counts.timeouts++
    const waited = Math.round(performance.now() - started)
    return new LockTimeoutError(
      `Lock "${name}" is still held after waiting ${waited} ms; raise "wait" or try again later`,
      { lockName: name, waitedMs: waited },
    )
  }
}

function aborted(name: string, signal: AbortSignal): LockAbortedError {
  return new LockAbortedError(`Waiting for lock "${name}" was aborted by its signal`, {
    cause: signal.reason,
  })
}

/**
 * Creates named locks with fencing tokens over a store: `memoryStore()` for one process,
 * `redisStore()` for every process on that Redis (standalone, Sentinel or Cluster).
 *
 * ```ts
 * const locks = createLocks({ store: redisStore({ url }) })
 * await locks.withLock('shift:42', async ({ token, signal }) => {
 *   await db.query('UPDATE shifts SET ..., fence = $1 WHERE id = 42 AND fence < $1', [token])
 * }, { ttl: '10s', wait: '5s' })
 * ```
 */
export function createLocks(options: LocksOptions): Locks {
  return new Locks(options)
}
