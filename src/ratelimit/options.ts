import { InvalidOptionError } from '../errors.js'
import { type Duration, describe, durationToMs } from '../internal/duration.js'

/** The longest delay a Node timer honours (larger ones fire after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A duration option as whole milliseconds within `[min, max]`, or {@link InvalidOptionError}
 * naming the option, so a bad value fails at creation rather than on the first request.
 */
export function wholeMs(
  value: Duration | undefined,
  fallback: Duration,
  option: string,
  range: { readonly min?: number; readonly max?: number } = {},
): number {
  const input = value ?? fallback
  const min = range.min ?? 0
  const max = range.max ?? MAX_TIMER_MS
  const ms = typeof input === 'number' && !Number.isInteger(input) ? undefined : durationToMs(input)
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < min || ms > max) {
    throw new InvalidOptionError(
      `${option} must be a whole number of milliseconds from ${min} to ${max} or a duration string such as '500ms', '30s', '15m'; got ${describe(input)}`,
    )
  }
  return ms
}
