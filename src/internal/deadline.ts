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

/**
 * An operation on the clock. Call {@link Watched.done} when it settles: the entry stays queued
 * until the sweep passes it, and must not keep the caller's closures (and through them its
 * values) alive that long.
 */
export interface Watched {
  readonly settled: boolean
  done(): void
}

function ignore(): void {}

/** One queued deadline; `done()` drops what the caller gave it. */
class Entry implements Watched {
  settled = false
  constructor(
    readonly at: number,
    public reject: (error: unknown) => void,
  ) {}

  done(): void {
    this.settled = true
    this.reject = ignore
  }
}

export class Deadlines {
  readonly timeoutMs: number
  readonly #tickMs: number
  #queue: Entry[] = []
  #head = 0
  #timer: NodeJS.Timeout | undefined
  #sweepQueued = false

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
    // Sweep often enough that a call fails at most ~10% (and 25 ms) after its deadline.
    this.#tickMs = Math.max(2, Math.min(25, Math.floor(timeoutMs / 10)))
  }

  /**
   * Starts the clock on one operation: `onTimeout` is called with a {@link DeadlineTimeoutError}
   * once the deadline passes (or with `failAll`'s error), unless the caller calls `done()` on the
   * returned entry first. For callers that settle their own promise: one promise per call, not two.
   */
  watch(onTimeout: (error: unknown) => void): Watched {
    const entry = new Entry(performance.now() + this.timeoutMs, onTimeout)
    this.#queue.push(entry)
    if (this.#timer === undefined) this.#start()
    return entry
  }

  /** Settles with `promise`, or rejects with {@link DeadlineTimeoutError} once the deadline passes. */
  run<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = new Entry(performance.now() + this.timeoutMs, reject)
      this.#queue.push(entry)
      if (this.#timer === undefined) this.#start()
      promise.then(
        (value) => {
          entry.done()
          resolve(value)
        },
        (error: unknown) => {
          entry.done()
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
      const entry = this.#queue[i] as Entry
      if (!entry.settled) {
        const reject = entry.reject
        entry.done()
        reject(error)
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
      const entry = queue[head] as Entry
      if (!entry.settled) {
        if (entry.at > now) break
        const reject = entry.reject
        entry.done()
        reject(new DeadlineTimeoutError(this.timeoutMs))
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
