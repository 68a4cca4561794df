import { globParts } from '../../internal/index.js'

/**
 * Redis globs as database prefilters. A prefilter may match more than the glob, never less: the
 * engine checks every candidate with the exact matcher (`globMatcher`), so only literal text is
 * kept and every wildcard or class widens to "any run". Even `?` widens: in Redis it matches one
 * byte, and a run of them can cover fewer characters than it has marks.
 */

/** A LIKE pattern (escape character `!`) matching at least what the glob matches. */
export function globToLike(glob: string): string {
  let out = ''
  for (const part of globParts(glob)) {
    if (part.literal) out += part.text.replace(/[!%_]/g, '!$&')
    else if (!out.endsWith('%') || out.endsWith('!%')) out += '%'
  }
  return out
}

/**
 * An SQLite GLOB pattern matching at least what the glob matches. GLOB is case-sensitive and uses
 * the key's index for a literal prefix, which SQLite's case-insensitive LIKE does not.
 */
export function globToSqliteGlob(glob: string): string {
  let out = ''
  for (const part of globParts(glob)) {
    if (part.literal) out += part.text.replace(/[*?[]/g, '[$&]')
    else if (!out.endsWith('*') || out.endsWith('[*]')) out += '*'
  }
  return out
}
