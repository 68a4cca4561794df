import type { Cache } from '../../cache/index.js'
import { InvalidOptionError } from '../../errors.js'
import { type Duration, durationToMs, requireTimeout } from '../../internal/index.js'

/** What the response cache reads of a request, whatever the framework. */
export interface RequestView {
  /** Upper-case method. */
  readonly method: string
  /** Path and query as received (`/articles/7?page=2`), without scheme or host. */
  readonly url: string
  /** A request header (lowercase name), several values joined with `, `. */
  header(name: string): string | undefined
}

/** Options of {@link responseCache}. */
export interface ResponseCacheOptions {
  /** The cache that holds the pages: a tiered or Redis cache gives single flight and invalidation across processes. */
  readonly cache: Cache
  /** How long the server keeps a page fresh. Kept apart from what clients are told (`cacheControl`). */
  readonly ttl: Duration
  /** After `ttl`, how long a stale page is still served while one request refreshes it. Default 0. */
  readonly grace?: Duration
  /** Request headers whose values are part of every key (lowercase or not). Default none. */
  readonly vary?: readonly string[]
  /**
   * Learn the `Vary` of responses: the values of the request headers a response names become part
   * of its key. Default true. With false, a response that varies on a header outside `vary` is refused.
   */
  readonly learnVary?: boolean
  /**
   * Per-user (or per-tenant) part of the key, e.g. `(req) => req.user?.id ?? 'anon'`; `undefined`
   * means do not cache this request. Giving one also allows requests with `Authorization` or a
   * session cookie, which are otherwise never cached.
   */
  readonly key?: (request: RequestView) => string | undefined
  /** Tags of the stored page, for {@link ResponseCache.invalidate}. */
  readonly tags?: (request: RequestView) => readonly string[]
  /** Largest body stored, in bytes. Default 1 MiB. Longer bodies are sent but not stored. */
  readonly maxBodyBytes?: number
  /** Methods served from the cache. Default `['GET', 'HEAD']` (HEAD is answered from the GET entry). */
  readonly methods?: readonly string[]
  /** Statuses that may be stored. Default 200, 203, 204, 300, 301, 308, 404, 410. */
  readonly statuses?: readonly number[]
  /** Query parameters left out of the key (tracking parameters...), or a predicate on the name. */
  readonly ignoreQuery?: readonly string[] | ((name: string) => boolean)
  /** Honour the request's `Cache-Control: no-cache` (refetch and store) and `no-store` (bypass). Default false. */
  readonly honorNoCache?: boolean
  /** `Cache-Control` sent to clients on cached routes when the handler set none (e.g. `'public, max-age=60'`). */
  readonly cacheControl?: string
  /** `CDN-Cache-Control` (RFC 9213) sent when the handler set none. */
  readonly cdnCacheControl?: string
  /**
   * Cookies that mark a session: a request carrying one is not cached unless `key` is given.
   * Default: names matching `/sess|sid|auth|token|jwt|login|remember|^__(Host|Secure)-/i`. `false`: none.
   */
  readonly sessionCookies?: RegExp | readonly string[] | false
  /** After a refusal, how long the key bypasses the cache without coalescing callers. Default `'5s'`. */
  readonly passTtl?: Duration
  /** Names the routes in events when the framework gives no template. */
  readonly name?: string
  /** Namespace of the cache the pages live in. Default `'http'`. */
  readonly namespace?: string
  /** Add `Cache-Status`, `X-Cache` and `Age` to responses. Default true. */
  readonly debugHeaders?: boolean
}

/** The response statuses the HTTP cache stores by default. */
export const DEFAULT_STATUSES = [200, 203, 204, 300, 301, 308, 404, 410] as const
/** The cookie names that mark a request as personal, so the response cache bypasses it. */
export const DEFAULT_SESSION_COOKIES = /sess|sid|auth|token|jwt|login|remember|^__(Host|Secure)-/i

/** Options after validation, in ms and sets. */
export interface Resolved {
  readonly cache: Cache
  readonly ttl: number
  readonly grace: number
  readonly passTtl: number
  readonly vary: readonly string[]
  readonly learnVary: boolean
  readonly key: ResponseCacheOptions['key']
  readonly tags: ResponseCacheOptions['tags']
  readonly maxBodyBytes: number
  readonly methods: ReadonlySet<string>
  readonly statuses: ReadonlySet<number>
  readonly ignoreQuery: (name: string) => boolean
  readonly honorNoCache: boolean
  readonly cacheControl: string | undefined
  readonly cdnCacheControl: string | undefined
  readonly sessionCookie: (name: string) => boolean
  readonly name: string | undefined
  readonly debugHeaders: boolean
}

export function resolveOptions(options: ResponseCacheOptions): Resolved {
  if (!options || typeof options !== 'object' || !options.cache) {
    throw new InvalidOptionError('responseCache needs { cache, ttl }: the cache that holds the pages')
  }
  const ttl = durationToMs(options.ttl)
  if (ttl === undefined || ttl <= 0) {
    throw new InvalidOptionError(
      `responseCache ttl must be a positive duration ('30s', '5m' or ms), got ${String(options.ttl)}`,
    )
  }
  const max = options.maxBodyBytes ?? 1_048_576
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new InvalidOptionError('responseCache maxBodyBytes must be a non-negative integer')
  }
  const ignore = options.ignoreQuery
  const sessions = options.sessionCookies ?? DEFAULT_SESSION_COOKIES
  const sessionSet = Array.isArray(sessions) ? new Set(sessions as readonly string[]) : undefined
  return {
    cache: options.cache,
    ttl,
    grace: options.grace === undefined ? 0 : requireTimeout(options.grace, 'grace'),
    passTtl: options.passTtl === undefined ? 5000 : requireTimeout(options.passTtl, 'passTtl'),
    vary: [...new Set((options.vary ?? []).map((h) => h.toLowerCase()))].sort(),
    learnVary: options.learnVary ?? true,
    key: options.key,
    tags: options.tags,
    maxBodyBytes: max,
    methods: new Set((options.methods ?? ['GET', 'HEAD']).map((m) => m.toUpperCase())),
    statuses: new Set(options.statuses ?? DEFAULT_STATUSES),
    ignoreQuery:
      typeof ignore === 'function'
        ? ignore
        : ignore
          ? (
              (set) => (name: string) =>
                set.has(name)
            )(new Set(ignore))
          : () => false,
    honorNoCache: options.honorNoCache ?? false,
    cacheControl: options.cacheControl,
    cdnCacheControl: options.cdnCacheControl,
    sessionCookie:
      sessions === false
        ? () => false
        : sessionSet
          ? (name) => sessionSet.has(name)
          : (name) => (sessions as RegExp).test(name),
    name: options.name,
    debugHeaders: options.debugHeaders ?? true,
  }
}
