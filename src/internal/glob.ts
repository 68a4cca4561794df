/**
 * Redis-compatible glob patterns: `*` any run, `?` one character, `[abc]`, `[a-z]`, `[^a]`, and `\`
 * to escape. The same syntax works in every store, so a pattern means the same thing in memory,
 * in Redis (where it goes to SCAN MATCH unchanged) and in SQL (translated to LIKE plus a check).
 */
const compiled = new Map<string, RegExp>()

export function globToRegExp(pattern: string): RegExp {
  const known = compiled.get(pattern)
  if (known) return known
  let source = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '*') source += '[\\s\\S]*'
    else if (ch === '?') source += '[\\s\\S]'
    else if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string)
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end === -1) {
        source += '\\['
        continue
      }
      let body = pattern.slice(i + 1, end)
      const negate = body.startsWith('^') || body.startsWith('!')
      if (negate) body = body.slice(1)
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`
      i = end
    } else source += escapeRegExp(ch)
  }
  const regexp = new RegExp(`${source}$`)
  if (compiled.size < 500) compiled.set(pattern, regexp)
  return regexp
}

/** Escapes glob metacharacters so a literal (a prefix, a namespace) can lead a pattern. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&')
}

function escapeRegExp(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch
}
