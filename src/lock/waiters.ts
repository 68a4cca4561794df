import type { LockBackend } from './types.js'

/** The first re-check after a failed attempt, and the cap its doubling reaches. */
const FIRST_RECHECK_MS = 20
const MAX_RECHECK_MS = 200

/**
 * One call waiting for a lock. It stays registered for the whole wait, so a release message that
 * arrives while its attempt is in flight is kept (`woken`) and honoured by the next {@link next}.
 */
export class Waiter {
  woken = false
  #delay = FIRST_RECHECK_MS
  #resume: ((error?: Error) => void) | undefined
  readonly #signal: AbortSignal | undefined
  readonly #onAbort = () => this.wake()

  constructor(
    readonly key: string,
    signal: AbortSignal | undefined,
    readonly remove: () => void,
    readonly closed: () => Error | undefined,
  ) {
    this.#signal = signal
    signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  /**
   * Resolves when a release of the key was announced, or after a short back-off (a safety net for
   * a lost message or a subscription still coming up), or when the holder's TTL runs out (`heldFor`
   * ms; expiry sends no message), or the wait's end (`left` ms), whichever is first.
   */
  next(left: number, heldFor: number): Promise<void> {
    const closed = this.closed()
    if (closed) return Promise.reject(closed)
    if (this.woken || this.#signal?.aborted) {
      this.woken = false
      return Promise.resolve()
    }
    const pause = Math.max(1, Math.min(this.#delay, left, heldFor >= 0 ? heldFor + 1 : this.#delay))
    this.#delay = Math.min(this.#delay * 2, MAX_RECHECK_MS)
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#resume?.(), pause)
      this.#resume = (error) => {
        clearTimeout(timer)
        this.#resume = undefined
        this.woken = false
        if (error) reject(error)
        else resolve()
      }
    })
  }

  /** A release was announced (or the wait was aborted): try now. */
  wake(): void {
    this.woken = true
    this.#resume?.()
  }

  fail(error: Error): void {
    this.#resume?.(error)
  }

  detach(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort)
  }
}

/**
 * Every wait of one {@link Locks}, by key, and the one subscription to release messages that
 * serves them all. A message wakes only the oldest waiter of its key in this process (the others
 * would lose the race anyway): one attempt per process per release instead of a stampede.
 */
export class Waiters {
  readonly #byKey = new Map<string, Set<Waiter>>()
  readonly #backend: LockBackend
  #subscription: Promise<() => Promise<void>> | undefined
  #closed: Error | undefined
  #size = 0
  /** Wake-ups seen so far (release messages and local releases, of any key). */
  #messages = 0

  constructor(backend: LockBackend) {
    this.#backend = backend
  }

  get size(): number {
    return this.#size
  }

  /** How many wake-ups (of any key) this process has seen: read before a first attempt. */
  get messages(): number {
    return this.#messages
  }

  /**
   * Registers a wait for `key` after a failed first attempt. `seen` is {@link messages} read before
   * that attempt was sent: if a wake-up arrived since (perhaps the release this wait needs, while the
   * attempt was in flight), the first {@link Waiter.next} tries again at once.
   */
  add(key: string, signal: AbortSignal | undefined, seen: number): Waiter {
    let set = this.#byKey.get(key)
    if (!set) this.#byKey.set(key, (set = new Set()))
    const entries = set
    this.#size++
    const waiter: Waiter = new Waiter(
      key,
      signal,
      () => {
        if (!entries.delete(waiter)) return
        this.#size--
        waiter.detach()
        if (entries.size === 0 && this.#byKey.get(key) === entries) this.#byKey.delete(key)
      },
      () => this.#closed,
    )
    entries.add(waiter)
    if (this.#messages !== seen) waiter.woken = true
    return waiter
  }

  /** Wakes the oldest waiter of `key`. */
  wake(key: string): void {
    this.#messages++
    const set = this.#byKey.get(key)
    if (!set) return
    for (const waiter of set) {
      waiter.wake()
      return
    }
  }

  closeAll(error: Error): void {
    this.#closed = error
    for (const set of this.#byKey.values()) for (const waiter of set) waiter.fail(error)
  }

  async unsubscribe(): Promise<void> {
    const subscription = this.#subscription
    this.#subscription = undefined
    if (subscription) await (await subscription.catch(() => async () => {}))().catch(() => {})
  }

  /** Subscribes to release messages once (again after a failed attempt); cheap when subscribed. */
  subscribe(): void {
    if (this.#subscription || this.#closed) return
    const subscription = this.#backend.subscribe((key) => this.wake(key))
    this.#subscription = subscription
    subscription.catch(() => {
      if (this.#subscription === subscription) this.#subscription = undefined
    })
  }
}
