import { InvalidOptionError } from '../errors.js'
import { describe } from '../internal/duration.js'
import type { Policy } from './rules.js'

/** The writes a backend offers beside decisions: rewards, penalties and manual blocks. */
export interface RateWriter {
  /** Points taken (> 0) or given back (< 0) on every policy of `base`, in one atomic step. */
  adjust(base: string, policies: readonly Policy[], points: number): Promise<void>
}

/** `points` for `reward`/`penalty`, or {@link InvalidOptionError}. */
export function checkPoints(points: unknown, what: 'reward' | 'penalty'): number {
  if (typeof points !== 'number' || !Number.isSafeInteger(points) || points < 0) {
    throw new InvalidOptionError(
      `Rate limit ${what} points must be a whole number >= 0, got ${describe(points)}`,
    )
  }
  return points
}
