import { InvalidOptionError, ValueTooLargeError } from '../errors.js'

/**
 * The largest value cachekit writes or decompresses by default, in bytes: 16 MiB. Larger values
 * belong in object storage; in Redis they block the server while they travel.
 *
 * `maxValueBytes` has one meaning wherever it is taken: the size of a stored entry, the bytes the
 * codec writes (header and envelope included, after compression) and a byte store keeps. The
 * codec refuses to encode more and to decompress more; the Redis and SQL stores refuse to write
 * more (they may be used without a cache, or behind a codec allowed more). One default for all,
 * so a value one accepts the next does not refuse.
 */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024

/** Checks a `maxValueBytes` option (`owner` names who takes it) and applies the default. */
export function maxValueBytesOption(owner: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_VALUE_BYTES
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(
      `${owner} maxValueBytes must be a whole number of bytes > 0, got ${String(value)}`,
    )
  }
  return value
}

/** Refuses an entry of `size` bytes over `max` with {@link ValueTooLargeError}. */
export function checkValueBytes(size: number, max: number, key?: string): void {
  if (size <= max) return
  throw new ValueTooLargeError(
    `The value is ${size} bytes encoded, over maxValueBytes (${max}): store less, or raise maxValueBytes`,
    { key },
  )
}
