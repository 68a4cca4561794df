import type { Duration } from '../internal/index.js'

/** Options of {@link Locks.lock} and {@link Locks.withLock}. */
export interface LockOptions {
  /**
   * How long the lock is held unless extended (ms or a duration string such as `'10s'`). A holder
   * that dies frees it after this long. Default `'10s'`.
   */
  readonly ttl?: Duration
  /**
   * How long to wait for a held lock before rejecting with `LockTimeoutError` (ms or a duration
   * string). `0` tries once. Default `'10s'`.
   */
  readonly wait?: Duration
  /** Aborts the wait (`LockAbortedError`); it does not release a lock already acquired. */
  readonly signal?: AbortSignal
}

/** A held lock. Only this handle can release or extend it. */
export interface LockHandle {
  /** The lock's name, as the caller wrote it. */
  readonly name: string
  /**
   * The fencing token: strictly greater than the token of every earlier holder of this name, in
   * every process, across restarts of the app and of an empty Redis (the last token + 1, or the
   * store's time in microseconds if that is larger; a safe integer). Hand it to whatever the lock
   * protects and have it refuse a write with a token not greater than the last one it accepted: a
   * holder that stalled past its TTL then cannot overwrite the work of the one that took over.
   */
  readonly token: number
  /** Aborts (with a `LockLostError` as reason) when the lock is lost: expired, or taken over. */
  readonly signal: AbortSignal
  /**
   * Releases the lock if this handle still holds it (resolves to true), and wakes the next waiter.
   * Resolves to false when it had been lost already. Idempotent. Rejects with
   * `StoreUnavailableError` when the store cannot be reached (the lock then expires on its TTL).
   */
  release(): Promise<boolean>
  /**
   * Sets the lock's remaining time to `ttl` (default: the TTL it was taken with), only if this
   * handle still holds it. Rejects with `LockLostError` (and aborts {@link signal}) when it does not,
   * with `StoreUnavailableError` when the store cannot be reached.
   */
  extend(ttl?: Duration): Promise<void>
}

/** What {@link Locks.stats} reports. */
export interface LockStats {
  /** Locks this instance holds now. */
  readonly held: number
  /** Calls waiting for a lock now: their first attempt found it held. */
  readonly waiting: number
  readonly acquired: number
  readonly released: number
  /** Handles whose signal aborted because the lock was lost. */
  readonly lost: number
  /** Waits that ended in `LockTimeoutError`. */
  readonly timeouts: number
  /** Failures absorbed in the background: watchdog extensions and `withLock` releases that failed. */
  readonly errors: number
}

/** The outcome of one attempt: the token, or how long the holder still has (ms; -1 unknown). */
export type Attempt = { readonly token: number } | { readonly heldFor: number }

/** A lock handed by a release straight to a queued waiter (`waiter`: its id), with its token. */
export interface Grant {
  readonly token: number
  readonly waiter: string
}

/** One store's lock primitives. Every call is one round trip (one script) on a shared store. */
export interface LockBackend {
  readonly shared: boolean
  /**
   * One attempt. With `waiter` (an id unique to this wait, without colons) a failed attempt also
   * queues the waiter, and a release may then grant it the lock directly (see {@link subscribe});
   * `retry`: an earlier attempt may have queued it, so a successful one takes it out.
   */
  tryAcquire(key: string, ttl: number, waiter?: string, retry?: boolean): Promise<Attempt>
  /**
   * Ends the lock if `token` holds it, and either grants it to a queued waiter or announces the
   * release to every process.
   */
  release(key: string, token: number): Promise<boolean>
  /** Extends the lock if `token` holds it; with `waiter`, also takes that waiter out of the queue. */
  extend(key: string, token: number, ttl: number, waiter?: string): Promise<boolean>
  /**
   * Calls `listener` with the key of every released lock that someone waits for, or with the key and
   * a {@link Grant} when the release handed it to a queued waiter (held for its TTL, at most
   * `CLAIM_MS`: the grantee extends it); resolves to an unsubscribe function.
   */
  subscribe(listener: (key: string, grant?: Grant) => void): Promise<() => Promise<void>>
}
