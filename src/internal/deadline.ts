/**
 * Per-operation deadlines without a timer per operation. Operations are queued in the order they
 * start; since every one gets the same timeout, that is also the order their deadlines fall, so one
 * shared interval pops the expired ones off the head of the queue. A settled operation stays in the
 * queue until the sweep reaches it, which costs nothing but its slot.
 *
 * The interval runs only while operations are pending and never holds the process open.
 */
export class DeadlineTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`)
    this.name = 'DeadlineTimeoutError'
  }
}

interface Pending {
  readonly at: number
  settled: boolean
  reject: (error: unknown) => void
}

export class Deadlines {
  readonly timeoutMs: number
  readonly #tickMs: number
  #queue: Pending[] = []
  #head = 0
  #timer: NodeJS.Timeout | undefined
  #sweepQueued = false

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
    // Sweep often enough that a call fails at most ~10% (and 25 ms) after its deadline.
    this.#tickMs = Math.max(2, Math.min(25, Math.floor(timeoutMs / 10)))
  }

  /** Settles with `promise`, or rejects with {@link DeadlineTimeoutError} once the deadline passes. */
  run<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { at: performance.now() + this.timeoutMs, settled: false, reject }
      this.#queue.push(entry)
      if (this.#timer === undefined) this.#start()
      promise.then(
        (value) => {
          entry.settled = true
          resolve(value)
        },
        (error: unknown) => {
          entry.settled = true
          reject(error)
        },
      )
    })
  }

  /** Operations waiting for a reply now (settled ones not yet swept included). */
  get pending(): number {
    return this.#queue.length - this.#head
  }

  /** Rejects everything pending now (used by close). */
  failAll(error: unknown): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i] as Pending
      if (!entry.settled) {
        entry.settled = true
        entry.reject(error)
      }
    }
    this.#queue = []
    this.#head = 0
    this.#stop()
  }

  #start(): void {
    // The sweep runs after the poll phase (setImmediate), not in the timers phase: after the event
    // loop was blocked (a busy machine, a synchronous module load), replies that arrived meanwhile
    // are read first, and only calls still unanswered then fail. Otherwise every call pending
    // during a stall of this process would fail however fast Redis answered.
    this.#timer = setInterval(() => {
      if (this.#sweepQueued) return
      this.#sweepQueued = true
      setImmediate(() => {
        this.#sweepQueued = false
        this.#sweep()
      })
    }, this.#tickMs)
    this.#timer.unref()
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #sweep(): void {
    const now = performance.now()
    const queue = this.#queue
    let head = this.#head
    while (head < queue.length) {
      const entry = queue[head] as Pending
      if (!entry.settled) {
        if (entry.at > now) break
        entry.settled = true
        entry.reject(new DeadlineTimeoutError(this.timeoutMs))
      }
      head++
    }
    if (head === queue.length) {
      this.#queue = []
      this.#head = 0
      this.#stop()
    } else if (head > 1024 && head * 2 > queue.length) {
      this.#queue = queue.slice(head)
      this.#head = 0
    } else this.#head = head
  }
}

/** Settles when `promise` does or after `ms`, whichever comes first (the timer never holds the process). */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
      timer.unref()
    }),
  ])
  clearTimeout(timer)
}
