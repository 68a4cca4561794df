import { InvalidKeyError, InvalidOptionError } from '../errors.js'
import { describe } from '../internal/duration.js'

/** The longest key a caller may pass, in UTF-16 code units, before prefix and namespaces. */
export const MAX_KEY_LENGTH = 1024

/** The separator between prefix, namespaces, version and key: `hlvm:user:42`. */
export const SEPARATOR = ':'

export function assertKey(key: unknown, maxLength: number): asserts key is string {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(
      `Cache keys must be strings, got ${describe(key)}: build one with key(name, params)`,
    )
  }
  if (key.length === 0) throw new InvalidKeyError('Cache keys must not be empty')
  if (key.length > maxLength) {
    throw new InvalidKeyError(
      `Cache key is ${key.length} characters long, over the limit of ${maxLength}: hash the variable part or raise maxKeyLength`,
    )
  }
}

export function assertSegment(segment: unknown, what: string): asserts segment is string {
  if (typeof segment !== 'string' || segment.length === 0 || segment.length > 256) {
    throw new InvalidOptionError(
      `${what} must be a non-empty string of at most 256 characters, got ${describe(segment)}`,
    )
  }
}

type KeyParam = string | number | bigint | boolean | null | undefined | Date | readonly (string | number)[]

/**
 * Builds a stable key from a name and parameters, parameters sorted by name so that the order the
 * caller wrote them in does not matter: `key('user_profile', { user_id: 123, lang: 'ru' })` gives
 * `user_profile:lang:ru:user_id:123`. `undefined` parameters are left out; `:` and `%` inside
 * values are percent-encoded so two different parameter sets never build the same key.
 */
export function key(name: string, params: Readonly<Record<string, KeyParam>> = {}): string {
  assertSegment(name, 'A key name')
  let out = name
  for (const param of Object.keys(params).sort()) {
    const value = params[param]
    if (value === undefined) continue
    out += `${SEPARATOR}${encodePart(param)}${SEPARATOR}${encodePart(formatParam(value, param))}`
  }
  return out
}

function formatParam(value: Exclude<KeyParam, undefined>, param: string): string {
  if (value === null) return 'null'
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.join(',')
  if (typeof value === 'object') {
    throw new InvalidKeyError(
      `Key parameter "${param}" is an object: pass its id, or a string you built from it`,
    )
  }
  return String(value)
}

function encodePart(part: string): string {
  return part.replace(/[%:]/g, (ch) => (ch === '%' ? '%25' : '%3A'))
}
