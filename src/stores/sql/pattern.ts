/**
 * Redis-style globs (see `globToRegExp`) as database prefilters. A prefilter may match more than
 * the glob, never less: the engine checks every candidate with the glob's regular expression, so
 * only literal characters are kept exactly and every wildcard or class widens to "anything".
 */

interface Part {
  readonly literal: boolean
  readonly text: string
}

/** Splits a glob into literal characters and wildcards, the way `globToRegExp` reads it. */
function parts(glob: string): Part[] {
  const out: Part[] = []
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string
    if (ch === '*' || ch === '?') out.push({ literal: false, text: ch })
    else if (ch === '\\' && i + 1 < glob.length) out.push({ literal: true, text: glob[++i] as string })
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end === -1) out.push({ literal: true, text: '[' })
      else {
        out.push({ literal: false, text: '?' })
        i = end
      }
    } else out.push({ literal: true, text: ch })
  }
  return out
}

/**
 * A LIKE pattern (escape character `!`) matching at least what the glob matches. `?` and classes
 * become `%` too: in MySQL's binary columns `_` matches one byte, not one character.
 */
export function globToLike(glob: string): string {
  let out = ''
  for (const part of parts(glob)) {
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
  for (const part of parts(glob)) {
    if (part.literal) out += /[*?[]/.test(part.text) ? `[${part.text}]` : part.text
    else out += part.text
  }
  return out
}
