import { InvalidKeyError, InvalidOptionError, UnkeyableArgumentError } from '../errors.js'
import { describe, percentEncode } from '../internal/index.js'

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
 * `user_profile:lang:ru:user_id:123`. `undefined` parameters are left out. For one name the key
 * is injective: two different parameter sets never build the same key, because every value is
 * written in a typed form (see {@link keyTerm}): `1` and `'1'`, `null` and `'null'`, `['a,b']` and
 * `['a', 'b']` all differ.
 */
export function key(name: string, params: Readonly<Record<string, KeyParam>> = {}): string {
  assertSegment(name, 'A key name')
  let out = name
  for (const param of Object.keys(params).sort()) {
    const value = params[param]
    if (value === undefined) continue
    out += `${SEPARATOR}${escapeText(param)}${SEPARATOR}${keyTerm(value, `parameter "${param}"`)}`
  }
  return out
}

/**
 * One value in a typed, injective text form with no `:` in it, so terms joined by `:` never run
 * together. Bare where that is unambiguous and readable: numbers as written (`42`, `-0`, `NaN`),
 * `true`, `false`, `null`, `undefined`, bigints with an `n` (`42n`), strings as they are unless they
 * would read as another type (then `'` leads: `'42`, `'null`, `'`), dates as `date(<ISO>)`, arrays
 * as `[a,b]` and plain objects as `{a=1,b=2}` with members sorted. Inside strings and member names
 * `% : , = ( ) [ ] { } '` are percent-encoded, so no delimiter ever comes from data. Anything else
 * (Map, Set, class instances, functions, symbols, circular objects) throws
 * {@link UnkeyableArgumentError}.
 */
export function keyTerm(value: unknown, what: string): string {
  return new TermWriter(what).term(value)
}

const RESERVED_WORDS = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity'])
/** A string starting with one of these would read as a number, a quoted string, an array or an object. */
const TYPED_START = /^[0-9\-'[{]/

class TermWriter {
  private readonly ancestors: object[] = []

  constructor(private readonly what: string) {}

  term(value: unknown): string {
    switch (typeof value) {
      case 'string':
        return value === '' || TYPED_START.test(value) || RESERVED_WORDS.has(value)
          ? `'${escapeText(value)}`
          : escapeText(value)
      case 'number':
        return Object.is(value, -0) ? '-0' : String(value)
      case 'bigint':
        return `${value}n`
      case 'boolean':
      case 'undefined':
        return String(value)
      case 'object':
        if (value === null) return 'null'
        return this.object(value)
    }
    throw this.refuse(typeof value)
  }

  private object(value: object): string {
    if (value instanceof Date) {
      const time = value.getTime()
      return `date(${Number.isNaN(time) ? 'invalid' : escapeText(value.toISOString())})`
    }
    if (this.ancestors.includes(value)) throw this.refuse('a circular object')
    const proto = Object.getPrototypeOf(value)
    const array = Array.isArray(value)
    if (!array && proto !== Object.prototype && proto !== null) throw this.refuse(describeObject(value))
    if (Object.getOwnPropertySymbols(value).length > 0) throw this.refuse('an object with symbol keys')
    this.ancestors.push(value)
    let out: string
    if (array) {
      const items: string[] = []
      for (let i = 0; i < value.length; i++) items.push(this.term(value[i]))
      out = `[${items.join(',')}]`
    } else {
      const record = value as Record<string, unknown>
      const names = Object.keys(record).sort()
      out = `{${names.map((name) => `${escapeText(name)}=${this.term(record[name])}`).join(',')}}`
    }
    this.ancestors.pop()
    return out
  }

  private refuse(kind: string): UnkeyableArgumentError {
    return new UnkeyableArgumentError(
      `Cannot build a key from ${this.what}: it is ${kind}, which has no stable key form; pass a \`key\` function that builds the key from its id`,
    )
  }
}

function describeObject(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'a class instance'
}

/** The characters that delimit terms, and `%` itself. */
const DELIMITERS = /[%:,=()[\]{}']/g

/** Percent-encodes the characters that delimit terms, and `%` itself. */
function escapeText(text: string): string {
  return percentEncode(text, DELIMITERS)
}
