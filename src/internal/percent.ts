/**
 * Percent-encoding (RFC 3986 §2.1: `%` and two upper-case hex digits per UTF-8 byte), in one
 * place: the cache's key terms encode their delimiters with it, and URLs, their credentials and
 * the secrets scrubbed from messages are decoded with it.
 */

/** `text` with every character `reserved` matches (a global RegExp) percent-encoded; the rest as is. */
export function percentEncode(text: string, reserved: RegExp): string {
  return text.replace(reserved, (ch) => {
    let out = ''
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    return out
  })
}

/** `text` percent-decoded, or `undefined` when it is not valid percent-encoding (a stray `%`, bad UTF-8). */
export function percentDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}
