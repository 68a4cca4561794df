import { StoreUnavailableError } from '../errors.js'

/**
 * Settles with `work`, or rejects with {@link StoreUnavailableError} after `ms`. The timer never
 * holds the process open. The Redis store has its own deadline; this one is the backstop for raw
 * clients, so a dead server never hangs a request.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new StoreUnavailableError(`${what}: no reply from the store within ${ms} ms`))
    }, ms)
    timer.unref()
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(
          error instanceof StoreUnavailableError
            ? error
            : new StoreUnavailableError(`${what}: the store failed`, { cause: error }),
        )
      },
    )
  })
}
