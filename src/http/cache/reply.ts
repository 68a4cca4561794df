import { randomBytes } from 'node:crypto'
import { grouped, type HeaderList, headerValue, NOT_MODIFIED_HEADERS } from './headers.js'
import type { RequestView, Resolved } from './options.js'
import { noneMatch, responseRefusal } from './policy.js'

/** A stored page: what the handler sent, minus what is never stored, plus the entry's ETag. */
export interface StoredPage {
  readonly kind: 'page'
  readonly status: number
  readonly headers: readonly string[]
  /**
   * The body as a string: UTF-8 text as such, other bytes in latin1 (one character per byte, see
   * `encoding`). A string is immutable, so a memory store in its default `freeze` mode hands the
   * same page out on every read instead of copying a typed array, and Node writes a string body
   * with the head in one piece.
   */
  readonly body: string
  /** `latin1` when the body was not valid UTF-8. */
  readonly encoding?: 'latin1'
  readonly etag: string
  readonly storedAt: number
  readonly freshUntil: number
  readonly route?: string
}

/** Stored at a page's primary key when its responses vary on request headers: where the variants are. */
export interface VaryMarker {
  readonly kind: 'vary'
  readonly headers: readonly string[]
}

/** Stored for `passTtl` after a refusal: callers bypass the cache at once instead of queueing. */
export interface PassMarker {
  readonly kind: 'pass'
  readonly reason: string
}

export type Stored = StoredPage | VaryMarker | PassMarker

/** How a door is asked to run the app. */
export interface Forward {
  /** RFC 9211 `fwd`: `miss`, `bypass`, `stale` (refreshing a stale page) or `request` (client's no-cache). */
  readonly fwd: 'miss' | 'bypass' | 'stale' | 'request'
  readonly detail?: string
  /** Capture status, headers and body for storing (and strip conditional request headers first). */
  readonly capture: boolean
}

/** What a door captured of a response, at the cache middleware's position in the chain. */
export interface Captured {
  readonly status: number
  readonly headers: HeaderList
  readonly body?: Uint8Array
  /** A refusal only the door can see (`aborted`, `stream`, `too-large`, a late `set-cookie`...). */
  readonly refused?: string
  /** The route template, when the framework knows it. */
  readonly route?: string
}

/** A response served from the cache. */
export interface Reply {
  readonly status: number
  readonly headers: ReadonlyArray<readonly [string, string | string[]]>
  /** Undefined for 304. Shared between replies of one entry: never mutate it. */
  readonly body: Uint8Array | undefined
  /** The same bytes as a string in `encoding`, for `res.end(text, encoding)`. */
  readonly text: string | undefined
  readonly encoding: 'utf8' | 'latin1'
  /** The page has a `Content-Type`: a string body adds none of its own. */
  readonly typed: boolean
}

/** Headers a door adds to a forwarded response, decided on its status and headers. */
export interface Outgoing {
  readonly headers: readonly string[]
  /** The ETag added for the entry, when the response had none (part of what is stored). */
  readonly etag?: string
}

export function newEtag(): string {
  return `"ck-${randomBytes(12).toString('base64url')}"`
}

/** The headers to add to a forwarded response: debug headers, and for storable ones ETag and client cache headers. */
export function outgoing(o: Resolved, fwd: Forward, status: number, headers: HeaderList): Outgoing {
  const refusal = fwd.capture ? responseRefusal(status, headers, o) : undefined
  const add: string[] = []
  if (o.debugHeaders) {
    add.push(
      'Cache-Status',
      refusal
        ? `cachekit; fwd=bypass; detail=${refusal}`
        : `cachekit; fwd=${fwd.fwd}${fwd.detail ? `; detail=${fwd.detail}` : ''}`,
      'X-Cache',
      'MISS',
    )
  }
  if (!fwd.capture || refusal) return { headers: add }
  clientCacheHeaders(o, headers, add)
  if (headerValue(headers, 'etag') !== undefined) return { headers: add }
  const etag = newEtag()
  add.push('ETag', etag)
  return { headers: add, etag }
}

function clientCacheHeaders(o: Resolved, headers: HeaderList, add: string[]): void {
  if (o.cacheControl && headerValue(headers, 'cache-control') === undefined) {
    add.push('Cache-Control', o.cacheControl)
  }
  if (o.cdnCacheControl && headerValue(headers, 'cdn-cache-control') === undefined) {
    add.push('CDN-Cache-Control', o.cdnCacheControl)
  }
}

interface Prepared {
  readonly full: Array<[string, string | string[]]>
  readonly notModified: Array<[string, string | string[]]>
  readonly lastModified: number
  readonly bytes: Uint8Array
  readonly typed: boolean
  /** `Content-Length` of the body, as sent. */
  readonly length: string
  /** The last `Cache-Status` of a hit and the TTL it was made for: it changes once a second at most. */
  hitTtl: number
  hitStatus: string
}

/**
 * Pages are immutable once stored: their grouped headers are worked out once per entry. Found by
 * object first (a memory store in its default `freeze` mode hands out the same frozen page on
 * every read), else by ETag and store time (stores that decode or copy on each read).
 */
interface PreparedPages {
  readonly byPage: WeakMap<StoredPage, Prepared>
  readonly byId: Map<string, Prepared>
}
const preparedBy = new WeakMap<Resolved, PreparedPages>()
const MAX_PREPARED = 2000

function prepare(page: StoredPage, o: Resolved): Prepared {
  let prepared = preparedBy.get(o)
  if (!prepared) preparedBy.set(o, (prepared = { byPage: new WeakMap(), byId: new Map() }))
  let p = prepared.byPage.get(page)
  if (p) return p
  const id = `${page.storedAt}:${page.status}:${page.etag}`
  p = prepared.byId.get(id)
  if (!p) {
    const headers = [...page.headers]
    clientCacheHeaders(o, page.headers, headers)
    const full = grouped(headers)
    const notModified = full.filter(([name]) => NOT_MODIFIED_HEADERS.has(name.toLowerCase()))
    const lm = headerValue(page.headers, 'last-modified')
    const bytes = Buffer.from(page.body, page.encoding ?? 'utf8')
    const typed = headerValue(page.headers, 'content-type') !== undefined
    p = {
      full,
      notModified,
      lastModified: lm ? Date.parse(lm) : Number.NaN,
      bytes,
      typed,
      length: String(bytes.byteLength),
      hitTtl: Number.NaN,
      hitStatus: '',
    }
    if (prepared.byId.size >= MAX_PREPARED) prepared.byId.delete(prepared.byId.keys().next().value as string)
    prepared.byId.set(id, p)
  }
  if (Object.isFrozen(page)) prepared.byPage.set(page, p)
  return p
}

/** How a page is served: `hit`, `stale` (inside grace) or `collapsed` (another caller's run). */
export type ServedAs = 'hit' | 'stale' | 'collapsed'

/** True when the request's validators match the page (If-None-Match, else If-Modified-Since). */
export function isNotModified(page: StoredPage, view: RequestView, lastModified: number): boolean {
  const inm = view.header('if-none-match')
  if (inm !== undefined) return noneMatch(inm, page.etag)
  const ims = view.header('if-modified-since')
  if (ims === undefined || Number.isNaN(lastModified)) return false
  const since = Date.parse(ims)
  return !Number.isNaN(since) && lastModified <= since
}

export function replyFor(page: StoredPage, view: RequestView, as: ServedAs, o: Resolved, now: number): Reply {
  const p = prepare(page, o)
  const notModified = isNotModified(page, view, p.lastModified)
  const headers = (notModified ? p.notModified : p.full).slice()
  headers.push(['Age', String(Math.max(0, Math.floor((now - page.storedAt) / 1000)))])
  if (o.debugHeaders) {
    let status: string
    if (as === 'collapsed') status = 'cachekit; fwd=miss; collapsed'
    else {
      const ttl = Math.floor((page.freshUntil - now) / 1000)
      if (ttl !== p.hitTtl) {
        p.hitTtl = ttl
        p.hitStatus = `cachekit; hit; ttl=${ttl}`
      }
      status = p.hitStatus
    }
    headers.push(
      ['Cache-Status', status],
      ['X-Cache', as === 'stale' ? 'STALE' : as === 'hit' ? 'HIT' : 'MISS'],
    )
  }
  const encoding = page.encoding ?? 'utf8'
  if (notModified) return { status: 304, headers, body: undefined, text: undefined, encoding, typed: p.typed }
  if (page.status !== 204) headers.push(['Content-Length', p.length])
  return { status: page.status, headers, body: p.bytes, text: page.body, encoding, typed: p.typed }
}
