import { StoreUnavailableError } from '../errors.js'
import { Deadlines, DeadlineTimeoutError } from '../internal/index.js'

/** One deadline queue per timeout value: a queue needs one timeout to stay in deadline order. */
const queues = new Map<number, Deadlines>()

/**
 * Settles with `work`, or rejects with {@link StoreUnavailableError} after `ms`, without a timer
 * per call (the Redis store's shared-interval deadlines) and never holding the process open. The
 * Redis store has its own deadline; this one is the backstop for raw clients, so a dead server
 * never hangs a request.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let deadlines = queues.get(ms)
  if (!deadlines) queues.set(ms, (deadlines = new Deadlines(ms)))
  return deadlines.run(work).catch((error: unknown) => {
    if (error instanceof StoreUnavailableError) throw error
    if (error instanceof DeadlineTimeoutError) {
      throw new StoreUnavailableError(`${what}: no reply from the store within ${ms} ms`)
    }
    throw new StoreUnavailableError(`${what}: the store failed`, { cause: error })
  })
}
