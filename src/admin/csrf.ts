import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * CSRF protection: a signed double-submit cookie (OWASP's "signed double-submit cookie" pattern).
 *
 * - The first authorized page view gives the browser a random id in an `HttpOnly`,
 *   `SameSite=Strict` cookie scoped to the admin path.
 * - Every form carries `HMAC-SHA256(secret, id + binding)`, where `secret` is the handler's key
 *   (random per handler unless the app passes one, which it must when several instances serve the
 *   page) and `binding` is what the app says identifies the session (default: the `Authorization`
 *   header, so a token minted for one Basic/Bearer user does not work for another).
 * - An action (POST) is refused unless the cookie is present and the token matches it.
 *
 * Another site can make the browser send the cookie (not with SameSite=Strict, but a subdomain
 * could plant one) but can neither read the page to learn the token nor compute a token for a
 * cookie it planted without the secret. The `Origin` header, when present, must also name this
 * host: a second, independent check.
 */
export const CSRF_COOKIE = 'cachekit_admin_csrf'
/** The form field that carries the admin page's CSRF token. */
export const CSRF_FIELD = '_csrf'
/** The request header that may carry the admin page's CSRF token instead of the form field. */
export const CSRF_HEADER = 'x-csrf-token'

const ID = /^[A-Za-z0-9_-]{22,64}$/

export class Csrf {
  readonly #secret: Buffer

  constructor(secret: string | Uint8Array | undefined) {
    this.#secret =
      secret === undefined
        ? randomBytes(32)
        : Buffer.from(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
  }

  /** A new browser id for the cookie. */
  newId(): string {
    return randomBytes(18).toString('base64url')
  }

  /** The id from the request's cookie, if it has a well-formed one. */
  idOf(request: Request): string | undefined {
    const id = readCookie(request.headers.get('cookie'), CSRF_COOKIE)
    return id !== undefined && ID.test(id) ? id : undefined
  }

  token(id: string, binding: string): string {
    return createHmac('sha256', this.#secret).update(`csrf\0${id}\0${binding}`).digest('base64url')
  }

  /** True when `token` was minted for this browser id and binding. Constant time. */
  verify(id: string | undefined, binding: string, token: string | undefined): boolean {
    if (id === undefined || token === undefined || token.length > 128) return false
    const expected = Buffer.from(this.token(id, binding))
    const given = Buffer.from(token)
    return expected.length === given.length && timingSafeEqual(expected, given)
  }

  /** The `Set-Cookie` value for a browser id. */
  cookie(id: string, path: string, secure: boolean): string {
    return `${CSRF_COOKIE}=${id}; Path=${path || '/'}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
  }
}

/** One cookie's value from a `Cookie` header. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** False when the request names an `Origin` (or, lacking one, a `Referer`) of another host. */
export function sameOrigin(request: Request): boolean {
  const url = new URL(request.url)
  const source = request.headers.get('origin') ?? request.headers.get('referer')
  if (source === null) return true
  if (source === 'null') return false
  try {
    return new URL(source).host === url.host
  } catch {
    return false
  }
}
