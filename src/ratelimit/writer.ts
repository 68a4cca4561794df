import { InvalidOptionError } from '../errors.js'
import { type Duration, describe, wholeMs } from '../internal/index.js'
import type { Policy } from './rules.js'

/** The writes a backend offers beside decisions: rewards, penalties and manual blocks. */
export interface RateWriter {
  /** Points taken (> 0) or given back (< 0) on every policy of `base`, in one atomic step. */
  adjust(base: string, policies: readonly Policy[], points: number): Promise<void>
  /** Refuses every request for `base` for `ms`, whatever the policies say, until it passes or a reset. */
  block(base: string, ms: number): Promise<void>
}

/** The key of a manual block (`limiter.block`): one per scope and key, beside the policies' keys. */
export const manualBlockKey = (base: string): string => `${base}:b`

/** `points` for `reward`/`penalty`, or {@link InvalidOptionError}. */
export function checkPoints(points: unknown, what: 'reward' | 'penalty'): number {
  if (typeof points !== 'number' || !Number.isSafeInteger(points) || points < 0) {
    throw new InvalidOptionError(
      `Rate limit ${what} points must be a whole number >= 0, got ${describe(points)}`,
    )
  }
  return points
}

/** The longest manual block: a year. */
const MAX_BLOCK_MS = 365 * 86_400_000

/** A `block` duration in whole milliseconds, or {@link InvalidOptionError}. */
export function blockMs(duration: Duration): number {
  return wholeMs(duration, 0, 'rate limit block duration', { min: 1, max: MAX_BLOCK_MS })
}
