import { randomBytes } from 'node:crypto'
import type { Grant, LockBackend } from './types.js'

/** The first re-check after a failed attempt, and the cap its doubling reaches. */
const FIRST_RECHECK_MS = 20
const MAX_RECHECK_MS = 200

/**
 * One call waiting for a lock. It stays registered for the whole wait, so a release message that
 * arrives while its attempt is in flight is kept (`woken`) and honoured by the next {@link next}.
 */
export class Waiter {
  woken = false
  /** The token of a lock a release granted this wait directly, and when the grant arrived. */
  granted: number | undefined
  grantedAt = 0
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

  /** A release granted this wait the lock: take it now. */
  grant(token: number, at: number): void {
    this.granted = token
    this.grantedAt = at
    this.wake()
  }

  fail(error: Error): void {
    this.#resume?.(error)
  }

  detach(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort)
  }
}

/**
 * Every wait of one {@link Locks}, by key and by id, and the one subscription to release messages
 * that serves them all. A grant goes to the wait it names; a wake-up wakes only the oldest waiter
 * of its key in this process (the others would lose the race anyway): one attempt per process per
 * release instead of a stampede.
 */
export class Waiters {
  readonly #byKey = new Map<string, Set<Waiter>>()
  /** Waits by number (their id without the instance's prefix), for grants. */
  readonly #byId = new Map<number, Waiter>()
  /** Numbers of calls whose first attempt is in flight, with a grant that arrived before its reply. */
  readonly #starting = new Map<number, Grant | undefined>()
  /** Prefix of this instance's waiter ids: unique among processes, no colon (see LockBackend). */
  readonly #instance = `${randomBytes(9).toString('base64url')}.`
  #sequence = 0
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
   * A number for a call that may wait, before its first attempt (which queues it as {@link idOf}):
   * a grant that arrives before that attempt's reply is kept for {@link add}. Each {@link start} is
   * followed by one {@link started}. Numbers, not strings, key the maps: this is on every lock().
   */
  start(): number {
    const n = ++this.#sequence
    this.#starting.set(n, undefined)
    return n
  }

  /** The waiter id of number `n`, as the backend queues it. */
  idOf(n: number): string {
    return this.#instance + n.toString(36)
  }

  /** The first attempt of `n` replied: the grant that arrived meanwhile, if any. */
  started(n: number): Grant | undefined {
    const early = this.#starting.get(n)
    this.#starting.delete(n)
    return early
  }

  /**
   * Registers a wait for `key` after a failed first attempt. `seen` is {@link messages} read before
   * that attempt was sent: if a wake-up arrived since (perhaps the release this wait needs, while the
   * attempt was in flight), the first {@link Waiter.next} tries again at once; so does a grant that
   * arrived meanwhile (`early`).
   */
  add(key: string, signal: AbortSignal | undefined, seen: number, n: number, early?: Grant): Waiter {
    let set = this.#byKey.get(key)
    if (!set) this.#byKey.set(key, (set = new Set()))
    const entries = set
    this.#size++
    const waiter: Waiter = new Waiter(
      key,
      signal,
      () => {
        if (!entries.delete(waiter)) return
        this.#byId.delete(n)
        this.#size--
        waiter.detach()
        if (entries.size === 0 && this.#byKey.get(key) === entries) this.#byKey.delete(key)
      },
      () => this.#closed,
    )
    entries.add(waiter)
    this.#byId.set(n, waiter)
    if (this.#messages !== seen) waiter.woken = true
    if (early) waiter.grant(early.token, performance.now())
    return waiter
  }

  /**
   * A release message: a wake-up for `key`, or a grant to one wait (of this process or another).
   * A grant to a wait of this process that is over (it gave up, timed out) is handed back at once,
   * so the lock goes on to the next waiter rather than to nobody until its claim time runs out.
   */
  #message(key: string, grant: Grant | undefined): void {
    if (grant === undefined) {
      this.wake(key)
      return
    }
    if (!grant.waiter.startsWith(this.#instance)) return
    const n = Number.parseInt(grant.waiter.slice(this.#instance.length), 36)
    const waiter = this.#byId.get(n)
    if (waiter !== undefined && waiter.key === key) {
      // Two grants before the wait took the first: the first one's claim ran out (this process
      // stalled), so the later one is the live one.
      const older = waiter.granted
      if (older !== undefined && older > grant.token) {
        this.#backend.release(key, grant.token).catch(() => {})
        return
      }
      waiter.grant(grant.token, performance.now())
      if (older !== undefined) this.#backend.release(key, older).catch(() => {})
    } else if (this.#starting.has(n) && this.#starting.get(n) === undefined) {
      this.#starting.set(n, grant)
    } else {
      this.#backend.release(key, grant.token).catch(() => {})
    }
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
    const subscription = this.#backend.subscribe((key, grant) => this.#message(key, grant))
    this.#subscription = subscription
    subscription.catch(() => {
      if (this.#subscription === subscription) this.#subscription = undefined
    })
  }
}
