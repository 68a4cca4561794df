/**
 * The first connection of a Redis store: calls made before it wait for it, once, up to
 * `connectTimeout`; then it is over, whatever happened, and calls fail fast or go through.
 */
export class FirstConnection {
  /** Calls that waited (or wait now) for it; reported when it ends. */
  waiting = 0
  #pending: { readonly promise: Promise<void>; readonly settle: (error?: Error) => void } | undefined
  #timer: NodeJS.Timeout | undefined

  /** `ended` hears how it ended (an error when it failed or timed out) and how many calls waited. */
  constructor(
    private readonly connectTimeout: number,
    private readonly ended: (error: Error | undefined, waited: number) => void,
  ) {
    let settle: (error?: Error) => void = () => {}
    const promise = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error))
    })
    promise.catch(() => {})
    this.#pending = { promise, settle }
  }

  /** True until it ends. */
  get pending(): boolean {
    return this.#pending !== undefined
  }

  /** Settles when it ends (rejects when it failed); undefined once it has ended. */
  get promise(): Promise<void> | undefined {
    return this.#pending?.promise
  }

  /**
   * Starts the clock, once the client exists (loading the library is not counted). The attempt
   * ends at `connectTimeout` whatever the connection does: a server that accepts TCP and never
   * answers the handshake must not make every call wait.
   */
  begin(): void {
    if (this.#pending === undefined || this.#timer !== undefined) return
    const ms = this.connectTimeout
    this.#timer = setTimeout(() => this.end(new Error(`no connection within ${ms} ms (connectTimeout)`)), ms)
    this.#timer.unref()
  }

  /** Ends it (once): connected when `error` is undefined. */
  end(error: Error | undefined): void {
    const pending = this.#pending
    if (pending === undefined) return
    this.#pending = undefined
    clearTimeout(this.#timer)
    this.#timer = undefined
    const waited = this.waiting
    this.waiting = 0
    this.ended(error, waited)
    pending.settle(error)
  }
}
