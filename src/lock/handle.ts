import { InvalidOptionError } from '../errors.js'
import type { Duration } from '../internal/index.js'
import { requireTimeout } from '../internal/index.js'
import { LockLostError } from './errors.js'
import type { LockBackend, LockHandle } from './types.js'

/** What a handle reports to the {@link Locks} that made it. */
export interface HandleOwner {
  readonly backend: LockBackend
  /** The handle is done (released or lost): forget it; `lost` counts a lost lock. */
  settled(handle: Lease, lost: boolean): void
  /** A failure absorbed in the background (`operation`: what failed, e.g. a watchdog `extend`). */
  absorbed(error: unknown, operation: string): void
}

/**
 * A held lock. It keeps its own conservative view of the expiry: the TTL counted from the moment
 * the acquiring (or extending) call was sent, which is never later than the store's (for a lock a
 * release granted, half its claim time counted from the grant's arrival, until the extension sent
 * on arrival answers: later than the store's only if the grant took that long to arrive). When that
 * moment passes without a successful extension (a stalled process, an unreachable store), the
 * signal aborts even before anyone else takes the lock.
 */
export class Lease implements LockHandle {
  readonly name: string
  readonly token: number
  readonly key: string
  readonly #owner: HandleOwner
  /** Made when `signal` is first read: most handles are released without anyone reading it. */
  #controller: AbortController | undefined
  #lostReason: LockLostError | undefined
  readonly #ttl: number
  #expiresAt: number
  #expiry: NodeJS.Timeout | undefined
  #watchdog: NodeJS.Timeout | undefined
  #done = false
  #released = false
  #lastError: unknown

  /**
   * `sentAt`: when the acquiring call was sent; the lock is held for `ttl` from then, or for `held`
   * when it was granted by a release for less (see {@link Locks}).
   */
  constructor(
    owner: HandleOwner,
    name: string,
    key: string,
    token: number,
    ttl: number,
    sentAt: number,
    held = ttl,
  ) {
    this.#owner = owner
    this.name = name
    this.key = key
    this.token = token
    this.#ttl = ttl
    this.#expiresAt = sentAt + held
    this.#arm()
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#lostReason !== undefined) this.#controller.abort(this.#lostReason)
    }
    return this.#controller.signal
  }

  /** True until released or lost. */
  get holding(): boolean {
    return !this.#done
  }

  async extend(ttl?: Duration): Promise<void> {
    const ms = ttl === undefined ? this.#ttl : requireTimeout(ttl, 'ttl')
    if (ms <= 0) throw new InvalidOptionError(`extend() on lock "${this.name}" needs a TTL greater than 0`)
    return this.#extend(ms, undefined)
  }

  /**
   * Takes up a lock a release granted to the wait `waiter`: extends it from its short claim to the
   * TTL, and takes the waiter out of the lock's queue (a retry that crossed the grant re-queued it).
   */
  claim(waiter: string): Promise<void> {
    return this.#extend(this.#ttl, waiter)
  }

  async #extend(ms: number, waiter: string | undefined): Promise<void> {
    if (this.#done) throw this.#notHeld()
    const sent = performance.now()
    const ok = await this.#owner.backend.extend(this.key, this.token, ms, waiter)
    if (this.#done) throw this.#notHeld()
    if (!ok) {
      const error = new LockLostError(
        `Lock "${this.name}" (token ${this.token}) is no longer held: it expired or another holder took it`,
      )
      this.#lose(error)
      throw error
    }
    this.#expiresAt = sent + ms
    this.#arm()
  }

  async release(): Promise<boolean> {
    if (this.#released) return false
    this.#released = true
    this.#stop(false)
    // Also after a local "lost": the local view is conservative and the key may still be ours.
    return this.#owner.backend.release(this.key, this.token)
  }

  /** Extends at a third of the TTL until released; retries sooner after a failure. */
  startWatchdog(): void {
    const every = Math.max(1, Math.floor(this.#ttl / 3))
    const tick = (delay: number) => {
      if (this.#done) return
      this.#watchdog = setTimeout(() => {
        this.extend().then(
          () => tick(every),
          (error: unknown) => {
            if (this.#done) return
            this.#lastError = error
            this.#owner.absorbed(error, 'extend')
            tick(Math.max(1, Math.floor(this.#ttl / 10)))
          },
        )
      }, delay)
      this.#watchdog.unref()
    }
    tick(every)
  }

  /** Stops timers; called on release and when the lock is lost. */
  #stop(lost: boolean): void {
    if (this.#done) return
    this.#done = true
    clearTimeout(this.#expiry)
    clearTimeout(this.#watchdog)
    this.#owner.settled(this, lost)
  }

  #lose(reason: LockLostError): void {
    if (this.#done) return
    this.#lostReason = reason
    this.#stop(true)
    this.#controller?.abort(reason)
  }

  #arm(): void {
    clearTimeout(this.#expiry)
    const left = Math.max(0, this.#expiresAt - performance.now())
    this.#expiry = setTimeout(() => {
      const cause = this.#lastError
      this.#lose(
        new LockLostError(
          cause === undefined
            ? `Lock "${this.name}" (token ${this.token}) expired: its TTL ran out before it was extended or released`
            : `Lock "${this.name}" (token ${this.token}) expired: the store could not be reached to extend it before its TTL ran out`,
          cause === undefined ? {} : { cause },
        ),
      )
    }, left)
    this.#expiry.unref()
  }

  #notHeld(): LockLostError {
    if (this.#lostReason !== undefined) return this.#lostReason
    return new LockLostError(`Lock "${this.name}" (token ${this.token}) was released by this handle`)
  }
}
