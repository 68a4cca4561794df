import { randomBytes } from 'node:crypto'
import type { Cache } from '../cache/index.js'
import { createCodec } from '../codec/index.js'
import type { LockoutLogEntry } from '../ratelimit/index.js'
import { CSRF_FIELD, CSRF_HEADER, Csrf, sameOrigin } from './csrf.js'
import { esc, layout, type PageContext } from './html.js'
import { clearConfirmPage, clearedPage, keyPage, keysPage } from './keys-page.js'
import { type AdminOptions, type ResolvedAdminOptions, resolveAdminOptions } from './options.js'
import { message, overviewPage, RedisFigures } from './overview.js'
import { describeKey, type KeyFacts, keySummary, redactSecretFields } from './preview.js'
import { type ProtectionView, protectionPage } from './protection-page.js'
import { Sampler } from './sampler.js'
import { KeySearches } from './search.js'

/** A web-standard request handler for the admin page, with `close()` to stop its sampler. */
export interface AdminHandler {
  (request: Request): Promise<Response>
  /** The path it serves under (`basePath`, without a trailing slash). */
  readonly basePath: string
  /** Stops the stats sampler and drops open key searches. Idempotent; the caches stay open. */
  close(): Promise<void>
}

/** The longest form body an action accepts. */
const MAX_BODY = 64 * 1024
/** Clear-by-pattern counts at most this many keys before it says "at least". */
const MAX_COUNT = 1_000_000

interface Served {
  readonly status: number
  readonly html: string
}

/**
 * Creates the admin page as one `(request: Request) => Promise<Response>` handler: an overview
 * (stats, ops/s chart, Redis memory and keys per prefix), a key browser (SCAN, paged; decoded
 * previews), and actions (delete a key, clear by pattern after a count and a confirmation, unblock
 * a rate-limited key, unlock a user or IP). Mount it with `adminPage` from `cachekit/express`,
 * `cachekit/fastify` or `cachekit/hono`, or call it from any server that speaks `Request`.
 *
 * Safe by default: every route asks `authorize(request)` first; every action is a POST with a
 * CSRF token (signed double-submit cookie, see csrf.ts) and a same-origin check; every key and
 * value is HTML-escaped; responses carry a strict nonce-based Content-Security-Policy, forbid
 * framing and are never cached. Throws `AdminAuthorizationRequiredError` without `authorize`.
 */
export function adminHandler(options: AdminOptions): AdminHandler {
  const opts = resolveAdminOptions(options, redactSecretFields)
  const csrf = new Csrf(opts.secret)
  const sampler = new Sampler(opts.caches, opts.sampleIntervalMs, opts.samples)
  const redis = new RedisFigures(opts)
  const searches = new KeySearches()
  const codec = opts.codec ?? createCodec()
  let closed = false

  async function serve(
    request: Request,
    page: PageContext,
    route: string,
    form: URLSearchParams,
  ): Promise<Served> {
    const query = new URL(request.url).searchParams
    const get = (name: string) => (request.method === 'POST' ? form : query).get(name) ?? undefined
    const cacheName = get('cache') ?? (opts.caches.keys().next().value as string)
    const cache = opts.caches.get(cacheName)
    switch (`${request.method === 'HEAD' ? 'GET' : request.method} ${route}`) {
      case 'GET /':
        return ok(await overviewPage(page, opts, sampler, redis))
      case 'GET /stats.json':
        return { status: 200, html: statsJson(opts) }
      case 'GET /keys': {
        if (!cache) return notFound(page, `No cache named ${cacheName}`)
        const pattern = get('pattern') || '*'
        const result = await searches.page(cacheName, cache, pattern, opts.pageSize, get('cursor'))
        const keys = result === 'expired' ? [] : result.keys
        const facts = await listFacts(cache, keys)
        return ok(
          keysPage(page, { caches: [...opts.caches.keys()], cache: cacheName, pattern, result, facts }),
        )
      }
      case 'GET /key': {
        const key = get('key')
        if (!cache || !key) return notFound(page, 'Name a cache and a key')
        return ok(
          keyPage(
            page,
            cacheName,
            cache,
            await describeKey(cache, key, codec, opts.redact, opts.previewChars),
          ),
        )
      }
      case 'GET /clear': {
        if (!cache) return notFound(page, `No cache named ${cacheName}`)
        const pattern = get('pattern') || '*'
        let count = 0
        for await (const _ of cache.keys(pattern)) if (++count >= MAX_COUNT) break
        return ok(clearConfirmPage(page, cacheName, pattern, count, count >= MAX_COUNT))
      }
      case 'GET /protection':
        return ok(protectionPage(page, opts, await protectionView(query)))
      case 'POST /delete': {
        const key = get('key')
        if (!cache || !key) return notFound(page, 'Name a cache and a key')
        const deleted = await cache.delete(key)
        const pattern = get('pattern') || '*'
        const result = await searches.page(cacheName, cache, pattern, opts.pageSize, undefined)
        const keys = result === 'expired' ? [] : result.keys
        const facts = await listFacts(cache, keys)
        const notice = deleted ? `Deleted ${key}` : `${key} was already gone`
        return ok(
          keysPage(page, {
            caches: [...opts.caches.keys()],
            cache: cacheName,
            pattern,
            result,
            facts,
            notice,
          }),
        )
      }
      case 'POST /clear': {
        const pattern = get('pattern')
        if (!cache || !pattern) return notFound(page, 'Name a cache and a pattern')
        if (get('confirm') !== 'yes')
          return {
            status: 400,
            html: problem(
              page,
              'Confirm the count first',
              'Open the clear page, check the count, then confirm.',
            ),
          }
        return ok(clearedPage(page, cacheName, pattern, await cache.deletePattern(pattern)))
      }
      case 'POST /unblock': {
        const name = get('limiter') ?? ''
        const limiter = opts.limiters.get(name)
        const scope = get('scope') ?? ''
        const key = get('key') ?? ''
        if (!limiter?.scopes.includes(scope) || key === '')
          return notFound(page, 'Name a limiter, one of its scopes and a key')
        await limiter.reset(scope, key)
        return ok(
          protectionPage(page, opts, await protectionView(query, `Unblocked ${key} in ${name} / ${scope}`)),
        )
      }
      case 'POST /unlock': {
        const name = get('guard') ?? ''
        const guard = opts.guards.get(name)
        const username = get('username') || undefined
        const ip = get('ip') || undefined
        if (!guard || (username === undefined && ip === undefined))
          return notFound(page, 'Name a guard and a username or an IP')
        const target = { ...(username ? { username } : {}), ...(ip ? { ip } : {}) }
        const by = (await opts.actor(request)) ?? 'admin page'
        const mode = get('mode') === 'reset' ? 'reset' : 'unlock'
        const records = await guard[mode](target, { by, note: `${mode} from the admin page` })
        const who = [username && `user ${username}`, ip && `IP ${ip}`].filter(Boolean).join(' and ')
        return ok(
          protectionPage(
            page,
            opts,
            await protectionView(
              query,
              `${mode === 'reset' ? 'Reset' : 'Unlocked'} ${who}: ${records} lock record(s) changed`,
            ),
          ),
        )
      }
    }
    const known = [
      '/',
      '/stats.json',
      '/keys',
      '/key',
      '/clear',
      '/protection',
      '/delete',
      '/unblock',
      '/unlock',
    ]
    if (known.includes(route))
      return {
        status: 405,
        html: problem(page, 'Method not allowed', 'Actions are POST forms; pages are GET.'),
      }
    return notFound(page, 'No such admin page')
  }

  async function protectionView(query: URLSearchParams, notice?: string): Promise<ProtectionView> {
    const logs = new Map<string, readonly LockoutLogEntry[] | string>()
    for (const [name, guard] of opts.guards) {
      logs.set(
        name,
        await guard
          .lockoutLog(20)
          .catch((error: unknown) => `The lockout log could not be read: ${message(error)}`),
      )
    }
    const limiterName = query.get('limiter')
    const limiter = limiterName === null ? undefined : opts.limiters.get(limiterName)
    const scope = query.get('scope') ?? ''
    const key = query.get('key') ?? ''
    if (notice === undefined && limiter && limiter.scopes.includes(scope) && key !== '') {
      const result = await limiter.peek(scope, key)
      return { logs, peeked: { limiter: limiterName as string, scope, key, result } }
    }
    return notice === undefined ? { logs } : { logs, notice }
  }

  const handler = async function cachekitAdmin(request: Request): Promise<Response> {
    const nonce = randomBytes(16).toString('base64')
    const url = new URL(request.url)
    const secure = url.protocol === 'https:'
    const base = opts.basePath
    if (closed)
      return respond({ status: 503, html: 'The admin page is closed.' }, nonce, undefined, 'text/plain')
    let route = url.pathname
    if (base !== '') {
      if (route !== base && !route.startsWith(`${base}/`))
        return respond({ status: 404, html: 'Not found' }, nonce, undefined, 'text/plain')
      route = route.slice(base.length)
    }
    route = route.replace(/\/+$/, '') || '/'
    let allowed = false
    try {
      allowed = (await opts.authorize(request)) === true
    } catch {
      allowed = false
    }
    if (!allowed) {
      if (opts.unauthorized) return withSecurityHeaders(await opts.unauthorized(request), nonce)
      return respond(
        {
          status: 401,
          html: '<!doctype html><title>Not authorized</title><p>Sign in to use the admin page.</p>',
        },
        nonce,
      )
    }
    const binding = opts.csrfBinding(request) ?? ''
    let id = csrf.idOf(request)
    let setCookie: string | undefined
    let form = new URLSearchParams()
    if (request.method === 'POST') {
      const refused = (why: string) =>
        respond({ status: 403, html: `<!doctype html><title>Refused</title><p>${esc(why)}</p>` }, nonce)
      if (!sameOrigin(request)) return refused('This action came from another site.')
      const body = await readForm(request)
      if (body === undefined)
        return refused('Send actions as a form (application/x-www-form-urlencoded) of at most 64 KiB.')
      form = body
      const token = form.get(CSRF_FIELD) ?? request.headers.get(CSRF_HEADER) ?? undefined
      if (!csrf.verify(id, binding, token))
        return refused('The form has expired or lacks its CSRF token: reload the page and try again.')
    } else if (id === undefined) {
      id = csrf.newId()
      setCookie = csrf.cookie(id, base || '/', secure)
    }
    const page: PageContext = { base, nonce, csrf: csrf.token(id as string, binding), title: opts.title }
    let served: Served
    try {
      served = await serve(request, page, route, form)
    } catch (error) {
      served = { status: 500, html: problem(page, 'Something failed', message(error)) }
    }
    const type = route === '/stats.json' && served.status === 200 ? 'application/json' : undefined
    const response = respond(served, nonce, setCookie, type)
    return request.method === 'HEAD'
      ? new Response(null, { status: response.status, headers: response.headers })
      : response
  }
  return Object.assign(handler, {
    basePath: opts.basePath,
    close: async () => {
      closed = true
      sampler.stop()
      searches.close()
    },
  })
}

/** TTL, type and size of each listed key, fetched side by side; a failed lookup leaves blanks. */
async function listFacts(cache: Cache, keys: readonly string[]): Promise<ReadonlyMap<string, KeyFacts>> {
  const rows = await Promise.all(
    keys.map(async (key) => {
      const [ttl, summary] = await Promise.all([
        cache.ttl(key).catch(() => undefined),
        keySummary(cache, key).catch(() => ({ type: '—', size: undefined })),
      ])
      return [key, { ttl, ...summary }] as const
    }),
  )
  return new Map(rows)
}

function ok(html: string): Served {
  return { status: 200, html }
}

function problem(page: PageContext, heading: string, text: string): string {
  return layout(page, '', heading, `<p class="warning">${esc(text)}</p>`)
}

function notFound(page: PageContext, text: string): Served {
  return { status: 404, html: problem(page, 'Not found', text) }
}

function statsJson(opts: ResolvedAdminOptions): string {
  const out: Record<string, unknown> = {}
  for (const [name, cache] of opts.caches) {
    try {
      out[name] = cache.stats()
    } catch (error) {
      out[name] = { error: message(error) }
    }
  }
  return JSON.stringify({ caches: out })
}

async function readForm(request: Request): Promise<URLSearchParams | undefined> {
  const type = request.headers.get('content-type') ?? ''
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined
  const length = Number(request.headers.get('content-length') ?? 0)
  if (length > MAX_BODY) return undefined
  const text = await request.text()
  return text.length > MAX_BODY ? undefined : new URLSearchParams(text)
}

/** The headers every admin response carries, whatever it is. */
export function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  }
}

function withSecurityHeaders(response: Response, nonce: string): Response {
  const headers = new Headers(response.headers)
  for (const [name, value] of Object.entries(securityHeaders(nonce)))
    if (!headers.has(name)) headers.set(name, value)
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}

function respond(
  served: Served,
  nonce: string,
  setCookie?: string,
  type = 'text/html; charset=utf-8',
): Response {
  const headers = new Headers(securityHeaders(nonce))
  headers.set('content-type', type)
  if (setCookie) headers.set('set-cookie', setCookie)
  return new Response(served.html, { status: served.status, headers })
}
