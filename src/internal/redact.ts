import { percentDecode } from './percent.js'

/**
 * Keeps secrets out of messages and logs. Two nets, both applied by {@link scrubber}:
 *
 * - by shape: anything that looks like credentials in a URL or a `user:pass@host`, written any way
 *   (`redis://u:pw@h`, `redis:/u:pw@h` with one slash, `rediss:/admin:pw@h`, `default:pw@h`,
 *   `redis://:pw@h`, `redis://pw@h`, percent-encoded or not), and `password=`-style parameters;
 * - by value: the passwords a store was configured with, as written, percent-decoded and encoded,
 *   wherever they appear (a driver may echo one in a message of its own).
 *
 * Redaction errs on the side of hiding: it may hide a little more than the password, never less.
 */

/** Runs of text a URL or `user:pass@host` can live in: no whitespace, quotes or angle brackets. */
const TOKEN = /[^\s"'`<>]+/g
/** A scheme counts only with a slash after it: in `user:pass@host` the user is no scheme. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/+/
/** `password=…` in a query string, a DSN (`host=x password=y`) or an options dump. */
const PARAMETER =
  /\b(password|passwd|pass|pwd|secret|token|auth|access_token|api_?key)(\s*=\s*|"\s*:\s*"|'\s*:\s*')("[^"]*"|'[^']*'|[^\s&;,"'}]*)/gi

/** The text with every password-shaped part replaced by `***`. */
export function redactSecrets(text: string): string {
  return redactParameters(text.replace(TOKEN, redactToken))
}

/**
 * A string known to be one URL (or `user:pass@host`), redacted as a whole: a password holding a
 * space or a quote, which would split it into several runs of text, is hidden whole as well.
 */
export function redactUrl(url: string): string {
  return redactParameters(redactToken(url))
}

function redactParameters(text: string): string {
  return text.replace(PARAMETER, (_, name: string, sep: string) => `${name}${sep}***`)
}

function redactToken(token: string): string {
  const found = credentialsOf(token)
  if (!found) return token
  const { scheme, user, at } = found
  return `${scheme}${user === undefined ? '' : `${user}:`}***${token.slice(at)}`
}

/**
 * The credentials of a URL-like token, read as a client would: after the scheme and its slashes,
 * up to the last `@`; the password is everything after the first colon. A part with no colon counts as a password only after a scheme: `redis://pw@h`
 * is a password, `alice@example.com` an address.
 */
function credentialsOf(
  token: string,
): { scheme: string; user: string | undefined; password: string; at: number } | undefined {
  const at = token.lastIndexOf('@')
  if (at === -1) return undefined
  const scheme = SCHEME.exec(token)?.[0] ?? ''
  if (at <= scheme.length) return undefined
  const credentials = token.slice(scheme.length, at)
  const colon = credentials.indexOf(':')
  if (colon === -1) return scheme === '' ? undefined : { scheme, user: undefined, password: credentials, at }
  return { scheme, user: credentials.slice(0, colon), password: credentials.slice(colon + 1), at }
}

/** The password of a URL or `user:pass@host`, as written (still percent-encoded), if it has one. */
export function passwordOf(url: string): string | undefined {
  const password = credentialsOf(url.trim())?.password
  return password === '' ? undefined : password
}

/**
 * The forms a configured password can take in text: as given, percent-decoded and percent-encoded.
 * Empty and one-character values are left out: replacing every `a` would only garble messages.
 */
export function secretForms(password: string | undefined): string[] {
  if (typeof password !== 'string' || password.length < 2) return []
  const forms = new Set([password, encodeURIComponent(password)])
  const decoded = percentDecode(password)
  if (decoded !== undefined) forms.add(decoded)
  return [...forms].filter((form) => form.length >= 2)
}

/** A function that removes the given secrets (longest first) and any password-shaped text. */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const ordered = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = text
    for (const secret of ordered) out = out.split(secret).join('***')
    return redactSecrets(out)
  }
}
