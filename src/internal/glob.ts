/**
 * Redis glob patterns, matched exactly as Redis's `SCAN MATCH` does (its `stringmatchlen`), so a
 * pattern means the same thing in memory, in Redis (where it goes to SCAN unchanged), in SQL (a
 * LIKE prefilter, then this matcher) and on the invalidation bus:
 *
 * - The pattern and the key are compared as UTF-8 bytes: `?` and a class match one byte.
 * - `*` any run of bytes, `?` one byte, `\x` the byte `x` itself (a `\` at the very end is itself).
 * - `[abc]`, `[^abc]` (only `^` negates), ranges `[a-z]` and reversed ones `[z-a]` (Redis swaps
 *   the ends), `\]` inside a class. A `]` right after `[` or `[^` closes the class (`[]` matches
 *   nothing, `[^]` anything); `[a-]...` is a range ending at `]`; a class never closed takes the rest
 *   of the pattern as its members. Range ends compare as signed bytes, as Redis built for x86-64 does.
 * - A key of zero bytes matches only the empty pattern and `*`; a pattern with more than 1000 `*`
 *   runs before its end matches nothing (Redis's guard against abusive patterns).
 *
 * Matching takes at most (pattern bytes + 1) × (key bytes + 1) steps, with no regular expression
 * and no recursion: the classic two-pointer algorithm that backtracks only to the last `*`.
 */

/** A token: a byte value (0-255), {@link ANY}, {@link STAR} or a class (256 flags, 1 = member). */
type Token = number | Uint8Array

const ANY = -1
const STAR = -2
/** Redis stops following `*` runs after this many nested ones; see the module comment. */
const MAX_STAR_RUNS = 1000

interface Compiled {
  readonly tokens: readonly Token[]
  /** The pattern can never match a non-empty key (too many `*` runs). */
  readonly never: boolean
  readonly empty: boolean
  readonly star: boolean
}

const encoder = new TextEncoder()
const cache = new Map<string, Compiled>()
let scratch = new Uint8Array(256)
let steps = 0

/** Whether `key` matches the Redis glob `pattern` (see the module comment for the exact rules). */
export function matchGlob(pattern: string, key: string): boolean {
  return run(compile(pattern), key)
}

/** A reusable test for one pattern: compiles it once, then matches keys in linear time. */
export function globMatcher(pattern: string): (key: string) => boolean {
  const compiled = compile(pattern)
  return (key) => run(compiled, key)
}

/** Steps the last match took (for tests of the time bound). */
export function lastMatchSteps(): number {
  return steps
}

/** Escapes glob metacharacters so a literal (a prefix, a namespace) can lead a pattern. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&')
}

/** A part of a glob at the character level: literal text, or a wildcard (`*` any run, `?` one byte). */
export interface GlobPart {
  readonly literal: boolean
  readonly text: string
}

/**
 * A glob as literal text and wildcards (a class reads as `?`), for building database prefilters.
 * Literal runs are whole characters: pattern syntax never splits a UTF-8 sequence outside a class.
 */
export function globParts(pattern: string): GlobPart[] {
  const out: GlobPart[] = []
  let literal: number[] = []
  const flush = () => {
    if (literal.length === 0) return
    out.push({ literal: true, text: Buffer.from(literal).toString('utf8') })
    literal = []
  }
  for (const token of compile(pattern).tokens) {
    if (typeof token === 'number' && token >= 0) literal.push(token)
    else {
      flush()
      out.push({ literal: false, text: token === STAR ? '*' : '?' })
    }
  }
  flush()
  return out
}

function compile(pattern: string): Compiled {
  const known = cache.get(pattern)
  if (known) return known
  const compiled = parse(encoder.encode(pattern))
  if (cache.size >= 500) cache.clear()
  cache.set(pattern, compiled)
  return compiled
}

/** Reads the pattern the way `stringmatchlen` walks it; how it reads never depends on the key. */
function parse(p: Uint8Array): Compiled {
  const n = p.length
  const tokens: Token[] = []
  let i = 0
  while (i < n) {
    const c = p[i] as number
    if (c === 0x2a /* * */) {
      while (i < n && p[i] === 0x2a) i++
      tokens.push(STAR)
      continue
    }
    if (c === 0x3f /* ? */) tokens.push(ANY)
    else if (c === 0x5b /* [ */) i = parseClass(p, i + 1, tokens)
    else if (c === 0x5c /* \ */ && n - i >= 2) tokens.push(p[++i] as number)
    else tokens.push(c)
    i++
  }
  let starRuns = 0
  for (let t = 0; t < tokens.length - 1; t++) if (tokens[t] === STAR) starRuns++
  return { tokens, never: starRuns > MAX_STAR_RUNS, empty: n === 0, star: n === 1 && p[0] === 0x2a }
}

/** Reads a class starting after its `[`; returns the index of its last byte (its `]`, or the end). */
function parseClass(p: Uint8Array, start: number, tokens: Token[]): number {
  const n = p.length
  let i = start
  const negate = i < n && p[i] === 0x5e /* ^ */
  if (negate) i++
  const members = new Uint8Array(256)
  for (;;) {
    if (i < n && p[i] === 0x5c && n - i >= 2) {
      members[p[++i] as number] = 1
    } else if (i < n && p[i] === 0x5d /* ] */) {
      break
    } else if (i >= n) {
      // Never closed: the class ends with the pattern.
      i = n - 1
      break
    } else if (n - i >= 3 && p[i + 1] === 0x2d /* - */) {
      let low = signed(p[i] as number)
      let high = signed(p[i + 2] as number)
      if (low > high) [low, high] = [high, low]
      for (let b = 0; b < 256; b++) if (signed(b) >= low && signed(b) <= high) members[b] = 1
      i += 2
    } else {
      members[p[i] as number] = 1
    }
    i++
  }
  if (negate) for (let b = 0; b < 256; b++) members[b] = members[b] ? 0 : 1
  tokens.push(members)
  return i
}

function signed(byte: number): number {
  return byte > 127 ? byte - 256 : byte
}

function run(compiled: Compiled, key: string): boolean {
  steps = 0
  if (compiled.star) return true
  if (key.length === 0) return compiled.empty
  if (compiled.never) return false
  const length = toBytes(key)
  const s = scratch
  const tokens = compiled.tokens
  const count = tokens.length
  let t = 0
  let i = 0
  let starToken = -1
  let starKey = 0
  while (i < length) {
    steps++
    const token = t < count ? (tokens[t] as Token) : undefined
    if (token === STAR) {
      starToken = t++
      starKey = i
      continue
    }
    if (token !== undefined) {
      const byte = s[i] as number
      if (token === ANY || (typeof token === 'number' ? token === byte : token[byte] === 1)) {
        t++
        i++
        continue
      }
    }
    if (starToken < 0) return false
    // Let the last `*` take one more byte and retry what follows it: earlier stars never need to.
    t = starToken + 1
    i = ++starKey
  }
  while (t < count && tokens[t] === STAR) t++
  return t === count
}

/** Writes the key's UTF-8 bytes into the scratch buffer; returns how many. */
function toBytes(key: string): number {
  if (scratch.length < key.length * 3) scratch = new Uint8Array(key.length * 3)
  return encoder.encodeInto(key, scratch).written
}
