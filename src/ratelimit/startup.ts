import { StoreUnavailableError } from '../errors.js'
import { type ScriptRunner, script } from './backend.js'

const PROBE = script('cachekit-ratelimit-probe', 'return 1')

/** Between two probes of a store without `ready()`: short, so startup costs little more than the connect. */
const PROBE_INTERVAL_MS = 50

/**
 * The wait for a shared store's first connection, made once when a limiter is created. Decisions
 * made meanwhile wait for it instead of deciding locally: eight processes started together on one
 * key must share one count from their very first request. It ends when the store is ready (its
 * `ready()`, or else the first script that runs), when `connectTimeoutMs` passes (the failure
 * policy decides from then on, visibly), or at `close()`.
 */
export class StartupWait {
  #pending: Promise<void> | undefined
  #finish: (() => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #done = false

  constructor(
    source: { readonly ready?: (() => Promise<void>) | undefined; readonly runner: ScriptRunner },
    connectTimeoutMs: number,
    onFailure: (error: unknown) => void,
    onReady: () => void,
    warm: () => Promise<unknown> = async () => {},
  ) {
    this.#pending = new Promise<void>((resolve) => {
      this.#finish = resolve
    })
    this.#timer = setTimeout(() => {
      onFailure(new StoreUnavailableError(`the store did not connect within ${connectTimeoutMs} ms`))
      this.#end()
    }, connectTimeoutMs)
    this.#timer.unref()
    const connected = source.ready ? source.ready() : this.#probe(source.runner)
    // Loading the scripts before the first decisions saves every process the NOSCRIPT round trip
    // (and the script text) on its first burst, when a busy machine can least afford it.
    const ready = connected.then(() => (this.#done ? undefined : warm().catch(() => {})))
    ready.then(
      () => {
        if (this.#done) return
        this.#end()
        onReady()
      },
      (error: unknown) => {
        if (this.#done) return
        onFailure(error)
        this.#end()
      },
    )
  }

  /** Pending while the first connection is being made; undefined once it is over, either way. */
  get pending(): Promise<void> | undefined {
    return this.#pending
  }

  /** Ends the wait now (on close): waiting decisions go on and meet the closed limiter. */
  close(): void {
    this.#end()
  }

  #end(): void {
    if (this.#done) return
    this.#done = true
    clearTimeout(this.#timer)
    this.#pending = undefined
    this.#finish?.()
  }

  /** For stores without `ready()` (raw clients, older stores): a no-op script until one runs. */
  async #probe(runner: ScriptRunner): Promise<void> {
    while (!this.#done) {
      try {
        await runner.run(PROBE, [], [])
        return
      } catch {
        await new Promise<void>((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS).unref())
      }
    }
  }
}

/** Settles with `work` or after `ms`, whichever is first, never rejecting and never holding the process. */
export function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    timer.unref()
    work.then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      () => {
        clearTimeout(timer)
        resolve()
      },
    )
  })
}
