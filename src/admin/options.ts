import type { Cache } from '../cache/index.js'
import type { Codec } from '../codec/index.js'
import { InvalidOptionError } from '../errors.js'
import { requireTimeout, type Ttl } from '../internal/index.js'
import type { LoginGuard, RateLimiter } from '../ratelimit/index.js'
import { AdminAuthorizationRequiredError } from './errors.js'
import type { Redactor } from './preview.js'

/** Options of `adminHandler`: what to show (caches, limiters, guards) and who may see it (`authorize`). */
export interface AdminOptions {
  /** The caches to show, by the name the page gives them: `{ main: cache, sessions: other }`. */
  readonly caches: Readonly<Record<string, Cache>>
  /** Rate limiters whose keys the page may unblock (`limiter.reset(scope, key)`), by name. */
  readonly limiters?: Readonly<Record<string, RateLimiter<string>>>
  /** Login guards whose users and IPs the page may unlock (`guard.unlock`), by name. */
  readonly guards?: Readonly<Record<string, LoginGuard>>
  /**
   * Required: whether this request may use the admin page (every route, reads included). Check
   * the app's own session or credentials here; a throw counts as "no".
   */
  readonly authorize: (request: Request) => boolean | Promise<boolean>
  /**
   * The answer to a request `authorize` refused. Default: a 401 page. Return a redirect to the
   * app's login page here.
   */
  readonly unauthorized?: (request: Request) => Response | Promise<Response>
  /** The path the page is mounted under (`'/admin'`, the default); links and the cookie use it. */
  readonly basePath?: string
  /**
   * Rewrites a value before the key page shows it. Default {@link redactSecretFields}: fields
   * named like secrets (`password`, `token`, `apiKey`...) show as `[redacted]`. `false` shows
   * values as they are.
   */
  readonly redact?: Redactor | false
  /**
   * The HMAC key of the CSRF tokens (at least 32 bytes). Default: random per handler, which is
   * right for one process; give every instance the same secret when a load balancer spreads one
   * admin's requests over several.
   */
  readonly secret?: string | Uint8Array
  /**
   * What ties a CSRF token to the signed-in person: return the app's session id. Default: the
   * `Authorization` header (or nothing, when the app signs in by cookie: the token is then bound
   * to the browser's CSRF cookie alone).
   */
  readonly csrfBinding?: (request: Request) => string | undefined
  /** Who is acting, for the lockout log of unlocks. Default `'admin page'`. */
  readonly actor?: (request: Request) => string | undefined | Promise<string | undefined>
  /** Decodes byte-store entries for previews; give the cache's codec if it uses a custom serializer. */
  readonly codec?: Codec
  /** How often the sampler records `stats()` for the ops/s chart. Default `'5s'`. */
  readonly sampleInterval?: Ttl
  /** Readings kept for the chart. Default 60 (5 minutes at the default interval). */
  readonly samples?: number
  /** Keys per page of a search. Default 50, at most 1000. */
  readonly pageSize?: number
  /** Keys scanned to count keys per prefix; past it the counts are a sample. Default 10,000. */
  readonly prefixScanLimit?: number
  /** Characters of a value preview. Default 20,000. */
  readonly previewChars?: number
  /** The page title. Default `'cachekit admin'`. */
  readonly title?: string
}

export interface ResolvedAdminOptions {
  readonly caches: ReadonlyMap<string, Cache>
  readonly limiters: ReadonlyMap<string, RateLimiter<string>>
  readonly guards: ReadonlyMap<string, LoginGuard>
  readonly authorize: (request: Request) => boolean | Promise<boolean>
  readonly unauthorized: ((request: Request) => Response | Promise<Response>) | undefined
  readonly basePath: string
  readonly redact: Redactor
  readonly secret: string | Uint8Array | undefined
  readonly csrfBinding: (request: Request) => string | undefined
  readonly actor: (request: Request) => string | undefined | Promise<string | undefined>
  readonly codec: Codec | undefined
  readonly sampleIntervalMs: number
  readonly samples: number
  readonly pageSize: number
  readonly prefixScanLimit: number
  readonly previewChars: number
  readonly title: string
}

export function resolveAdminOptions(options: AdminOptions, redactDefault: Redactor): ResolvedAdminOptions {
  if (options === null || typeof options !== 'object' || typeof options.authorize !== 'function') {
    throw new AdminAuthorizationRequiredError(
      'adminHandler needs an authorize(request) function that says who may use the admin page: ' +
        'adminHandler({ caches, authorize: (request) => isAdmin(request) })',
    )
  }
  const caches = entries(options.caches, 'caches')
  if (caches.size === 0)
    throw new InvalidOptionError('adminHandler needs at least one cache: { caches: { main: cache } }')
  const basePath = (options.basePath ?? '/admin').replace(/\/+$/, '')
  if (basePath !== '' && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(basePath)) {
    throw new InvalidOptionError(
      `basePath must be a URL path such as '/admin', got ${JSON.stringify(basePath)}`,
    )
  }
  if (
    typeof options.secret === 'string' ? options.secret.length < 32 : (options.secret?.byteLength ?? 32) < 32
  ) {
    throw new InvalidOptionError('adminHandler secret must be at least 32 bytes (e.g. 64 random hex digits)')
  }
  const sampleIntervalMs = Math.max(100, requireTimeout(options.sampleInterval ?? '5s', 'sampleInterval'))
  return {
    caches,
    limiters: entries(options.limiters ?? {}, 'limiters'),
    guards: entries(options.guards ?? {}, 'guards'),
    authorize: options.authorize,
    unauthorized: options.unauthorized,
    basePath,
    redact: options.redact === false ? (_key, value) => value : (options.redact ?? redactDefault),
    secret: options.secret,
    csrfBinding: options.csrfBinding ?? ((request) => request.headers.get('authorization') ?? ''),
    actor: options.actor ?? (() => 'admin page'),
    codec: options.codec,
    sampleIntervalMs,
    samples: whole(options.samples ?? 60, 'samples', 2, 10_000),
    pageSize: whole(options.pageSize ?? 50, 'pageSize', 1, 1000),
    prefixScanLimit: whole(options.prefixScanLimit ?? 10_000, 'prefixScanLimit', 1, 10_000_000),
    previewChars: whole(options.previewChars ?? 20_000, 'previewChars', 100, 10_000_000),
    title: options.title ?? 'cachekit admin',
  }
}

function entries<T>(record: Readonly<Record<string, T>>, what: string): ReadonlyMap<string, T> {
  if (record === null || typeof record !== 'object') {
    throw new InvalidOptionError(`adminHandler ${what} must be an object of name: instance`)
  }
  return new Map(Object.entries(record))
}

function whole(n: number, what: string, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(
      `adminHandler ${what} must be a whole number from ${min} to ${max}, got ${n}`,
    )
  }
  return n
}
