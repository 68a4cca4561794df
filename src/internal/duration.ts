import { InvalidOptionError, InvalidTtlError } from '../errors.js'

/**
 * The unit spellings of a duration, the same everywhere (TTLs, timeouts, rate-limit windows).
 * Lower case only: `'M'` reads as months to some and minutes to others.
 */
export const DURATION_UNITS = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
} as const satisfies Readonly<Record<string, number>>

/** A unit of a {@link Duration}: `ms`, `s`/`sec`/`second(s)`, `m`/`min`/`minute(s)`, `h`/`hr`/`hour(s)`, `d`/`day(s)`, `w`/`week(s)`. */
export type DurationUnit = keyof typeof DURATION_UNITS

type ShortUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w'

/**
 * A duration string: a number and a unit (`'250ms'`, `'30s'`, `'5 minutes'`, `'1.5h'`), or a sum
 * (`'1h30m'`, `'1h 30m'`). The type is a close approximation of what {@link durationToMs} parses:
 * - a sum type-checks with two or three parts in the short units (`'1h30m'`, `'1h30m15s'`). Longer
 *   sums, and sums of long spellings (`'1hour 30mins'`), parse at run time but do not type-check
 *   (each allowed combination is one member of a union: every one more costs every program that
 *   uses the type); write them in short units or in milliseconds;
 * - the number is TypeScript's `${number}`, which also admits a sign, an exponent, hex and blanks
 *   (`'-5s'`, `'1e3ms'`, `'0x10s'`): those compile and are refused at run time. The parser takes
 *   plain decimals (`5`, `1.5`), blanks between a number and its unit and between parts.
 */
export type DurationString =
  | `${number}${DurationUnit}`
  | `${number}${ShortUnit}${number}${ShortUnit}`
  | `${number}${ShortUnit}${number}${ShortUnit}${number}${ShortUnit}`

/** A duration: a number of milliseconds or a {@link DurationString} (`'250ms'`, `'5m'`, `'1h30m'`, `'1w'`). */
export type Duration = number | DurationString

/** A time to live: a {@link Duration}, `null` for never expires; `0` means "do not store". */
export type Ttl = Duration | null

const UNIT_MS: Readonly<Record<string, number>> = DURATION_UNITS
// Longest spellings first, so `min` is not read as `m` followed by `in`.
const UNITS = Object.keys(DURATION_UNITS)
  .sort((a, b) => b.length - a.length)
  .join('|')
const PART = new RegExp(`(\\d+(?:\\.\\d+)?)\\s*(${UNITS})(?![a-z])`, 'y')
const parsed = new Map<string, number>()

/**
 * Parses a {@link Duration} into milliseconds: the one duration grammar of cachekit (TTLs,
 * timeouts and rate-limit windows). Returns `undefined` for anything that is not one (negative,
 * NaN, infinite, unknown unit), so callers raise the error that fits their context.
 */
export function durationToMs(input: unknown): number | undefined {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? input : undefined
  }
  if (typeof input !== 'string') return undefined
  const known = parsed.get(input)
  if (known !== undefined) return known
  const text = input.trim()
  if (text === '') return undefined
  let total = 0
  let at = 0
  PART.lastIndex = 0
  for (let match = PART.exec(text); match !== null; match = PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number)
    at = PART.lastIndex
    while (text[at] === ' ') at++
    PART.lastIndex = at
  }
  if (at !== text.length || !Number.isFinite(total)) return undefined
  const ms = Math.round(total)
  if (parsed.size < 1000) parsed.set(input, ms)
  return ms
}

/**
 * The longest TTL a cache accepts: 100 years (of 365.25 days). Longer ones are refused with
 * {@link InvalidTtlError}, so no store is handed a TTL it cannot represent (Redis refuses 1e20)
 * and no counter is made immortal by an overflowing TTL; use `null` for "never expires".
 */
export const MAX_TTL_MS = 3_155_760_000_000

/**
 * The longest timeout (soft and hard timeouts, lease TTLs, grace periods, store deadlines): just
 * under 2^31 ms, about 24.8 days. Node's timers fire after 1 ms for anything longer, so longer
 * values are refused with {@link InvalidOptionError} rather than silently shortened.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * Resolves a {@link Ttl} to milliseconds (`null` = never expires), or throws
 * {@link InvalidTtlError} naming the key (also beyond {@link MAX_TTL_MS}).
 */
export function ttlToMs(ttl: unknown, key?: string): number | null {
  if (ttl === null) return null
  const ms = durationToMs(ttl)
  if (ms !== undefined && ms <= MAX_TTL_MS) return Math.ceil(ms)
  if (ms !== undefined) {
    throw new InvalidTtlError(
      `TTL ${describe(ttl)} is longer than the maximum of 100 years (${MAX_TTL_MS} ms): use null for an entry that never expires`,
      { key },
    )
  }
  throw new InvalidTtlError(
    `Invalid TTL ${describe(ttl)}: use a number of milliseconds >= 0, a duration string such as '250ms', '5m', '1h', '1d', or null for no expiry`,
    { key },
  )
}

/**
 * A duration option as whole milliseconds within `[min, max]` (default 0 to {@link MAX_TIMEOUT_MS}),
 * or {@link InvalidOptionError} naming the option, so a bad value fails at creation rather than on
 * first use. A fractional number is refused (not rounded); a string rounds to the millisecond.
 */
export function wholeMs(
  value: Duration | undefined,
  fallback: Duration,
  option: string,
  range: { readonly min?: number; readonly max?: number } = {},
): number {
  const input = value ?? fallback
  const min = range.min ?? 0
  const max = range.max ?? MAX_TIMEOUT_MS
  const ms = typeof input === 'number' && !Number.isInteger(input) ? undefined : durationToMs(input)
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < min || ms > max) {
    throw new InvalidOptionError(
      `${option} must be a whole number of milliseconds from ${min} to ${max} or a duration string such as '500ms', '30s', '15m'; got ${describe(input)}`,
    )
  }
  return ms
}

/**
 * {@link wholeMs} for an option renamed from `<name>Ms` (milliseconds) to `<name>` (a
 * {@link Duration}): takes either, and refuses both at once.
 */
export function renamedMs(
  value: Duration | undefined,
  oldValue: number | undefined,
  fallback: Duration,
  option: string,
  range: { readonly min?: number; readonly max?: number } = {},
): number {
  if (value !== undefined && oldValue !== undefined) {
    throw new InvalidOptionError(`${option} and its old name ${option}Ms are both given: keep ${option} only`)
  }
  return oldValue === undefined
    ? wholeMs(value, fallback, option, range)
    : wholeMs(oldValue, fallback, `${option}Ms`, range)
}

/** Like {@link durationToMs} but throws {@link InvalidTtlError} for a required option. */
export function requireDuration(value: unknown, option: string): number {
  const ms = durationToMs(value)
  if (ms === undefined) {
    throw new InvalidTtlError(
      `Invalid duration ${describe(value)} for option "${option}": use milliseconds >= 0 or a string such as '5s', '5m', '1h'`,
    )
  }
  return ms
}

/**
 * Like {@link requireDuration} for a value that becomes a timer: also throws
 * {@link InvalidOptionError} for a non-finite number or one of {@link MAX_TIMEOUT_MS} or more.
 */
export function requireTimeout(value: unknown, option: string): number {
  if ((typeof value === 'number' && !Number.isFinite(value)) || (durationToMs(value) ?? 0) > MAX_TIMEOUT_MS) {
    throw new InvalidOptionError(
      `Option "${option}" is ${describe(value)}: timeouts must be finite and below 2^31 ms (${MAX_TIMEOUT_MS} ms, about 24 days)`,
    )
  }
  return requireDuration(value, option)
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return value.toString()
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'null prototype'})`
}
