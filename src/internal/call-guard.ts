/**
 * The one shape of a store's guarded call, shared by the Redis `Guard` and the SQL `Session`:
 * `call(op, run, fallback)` runs `run` against the store's driver under its rules (deadline,
 * retries, circuit), and when the store is unavailable under `onError: 'ignore'` resolves to
 * `fallback` instead of throwing. {@link RETHROW} as the fallback means "throw anyway": for calls
 * whose caller cannot take a made-up answer (a counter, a migration, a lock, a script).
 */

/** Passed as a fallback to say "rethrow even under `onError: 'ignore'`". */
export const RETHROW: unique symbol = Symbol('cachekit.rethrow')

/** What a guarded call answers with when its store is unavailable and errors are ignored. */
export type Fallback<T> = T | typeof RETHROW

/** A store's gate to its driver: every call to the server passes through {@link CallGuard.call}. */
export interface CallGuard<Driver> {
  /** Runs `run` against the driver; `op` names the operation in degraded events. */
  call<T>(op: string, run: (driver: Driver) => Promise<T>, fallback: NoInfer<Fallback<T>>): Promise<T>
}

/** True when a failed call resolves to its fallback: errors are ignored and the call allows it. */
export function absorbs<T>(onError: 'throw' | 'ignore', fallback: Fallback<T>): fallback is T {
  return onError === 'ignore' && fallback !== RETHROW
}
