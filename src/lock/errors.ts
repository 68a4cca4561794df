import { CacheError } from '../errors.js'

/** `lock()` waited its whole `wait` and the lock was still held: try later, or wait longer. */
export class LockTimeoutError extends CacheError {
  static override readonly code = 'E_LOCK_TIMEOUT'
  /** The lock's name, as the caller wrote it. */
  readonly lockName: string
  /** How long the call waited, in ms. */
  readonly waitedMs: number

  constructor(message: string, options: { lockName: string; waitedMs: number }) {
    super(message)
    this.lockName = options.lockName
    this.waitedMs = options.waitedMs
  }
}

/**
 * The caller's `signal` aborted a wait for a lock; `cause` is the signal's reason. Nothing is held:
 * a lock acquired at the moment of the abort is released again.
 */
export class LockAbortedError extends CacheError {
  static override readonly code = 'E_LOCK_ABORTED'
}

/**
 * The lock is no longer held by this handle: its TTL ran out (the process stalled, or the watchdog
 * could not reach the store in time; `cause` says why), or another holder owns it now. Work done
 * under it must be checked with the fencing token before it is made visible.
 */
export class LockLostError extends CacheError {
  static override readonly code = 'E_LOCK_LOST'
}
