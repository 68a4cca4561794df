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

/** Header fields by name, as `setHeader` and `writeHead` take them (a repeated name: an array). */
export type HeaderFields = Readonly<Record<string, string | string[]>>

/** A response served from the cache. */
export interface Reply {
  readonly status: number
  /** The headers as `[name, value]` pairs, in the order of {@link Reply.fields}. */
  readonly headers: ReadonlyArray<readonly [string, string | string[]]>
  /**
   * The same headers by name, in the case they are sent (never two names that differ in case
   * only), for `writeHead` or a web `Response`. Shared between replies of one entry: never mutate it.
   * `Content-Length` is there for HEAD only: with a body, the server sending it counts it.
   */
  readonly fields: HeaderFields
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
  /** The page's headers (and the client cache headers), grouped by name; the 304 ones apart. */
  readonly full: ReadonlyArray<readonly [string, string | string[]]>
  readonly notModified: ReadonlyArray<readonly [string, string | string[]]>
  readonly lastModified: number
  readonly bytes: Uint8Array
  readonly typed: boolean
  /** `Content-Length` of the body, as sent. */
  readonly length: string
  /**
   * The last reply made of this entry for each way of serving it (see `slot`): a reply changes
   * only when its `Age` or its `Cache-Status` TTL does, once a second at most, so hits in between
   * get the same (immutable) reply.
   */
  readonly replies: Array<Made | undefined>
}

interface Made {
  readonly age: number
  readonly ttl: number
  readonly reply: Reply
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
    const lm = headerValue(page.headers, 'last-modified')
    const bytes = Buffer.from(page.body, page.encoding ?? 'utf8')
    p = {
      full,
      notModified: full.filter(([name]) => NOT_MODIFIED_HEADERS.has(name.toLowerCase())),
      lastModified: lm ? Date.parse(lm) : Number.NaN,
      bytes,
      typed: headerValue(page.headers, 'content-type') !== undefined,
      length: String(bytes.byteLength),
      replies: [],
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

/** Index in `Prepared.replies`: way of serving, then + 1 for a 304, + 6 for HEAD. */
const SLOT = { hit: 0, stale: 2, collapsed: 4 } as const
const X_CACHE = { hit: 'HIT', stale: 'STALE', collapsed: 'MISS' } as const

/**
 * A reply of a stored page: its own headers (grouped once per entry), then `Age` and the debug
 * headers. Made once per entry, way of serving and second (see `Prepared.replies`): a hit in
 * between costs two lookups and no allocation. `Content-Length` only answers HEAD: where there is
 * a body, the server counts it as it sends it (Node, Fastify and web runtimes all do), which
 * costs less than a header checked and written by hand, and is never stale.
 */
export function replyFor(page: StoredPage, view: RequestView, as: ServedAs, o: Resolved, now: number): Reply {
  const p = prepare(page, o)
  const notModified = isNotModified(page, view, p.lastModified)
  const age = Math.max(0, Math.floor((now - page.storedAt) / 1000))
  const ttl = Math.floor((page.freshUntil - now) / 1000)
  const head = view.method === 'HEAD'
  const slot = SLOT[as] + (notModified ? 1 : 0) + (head ? 6 : 0)
  const made = p.replies[slot]
  if (made !== undefined && made.age === age && made.ttl === ttl) return made.reply
  const fields: Record<string, string | string[]> = {}
  for (const [name, value] of notModified ? p.notModified : p.full) fields[name] = value
  fields['Age'] = String(age)
  if (o.debugHeaders) {
    fields['Cache-Status'] =
      as === 'collapsed' ? 'cachekit; fwd=miss; collapsed' : `cachekit; hit; ttl=${ttl}`
    fields['X-Cache'] = X_CACHE[as]
  }
  const encoding = page.encoding ?? 'utf8'
  let reply: Reply
  if (notModified) reply = new CachedReply(304, fields, undefined, undefined, encoding, p.typed)
  else {
    if (head && page.status !== 204) fields['Content-Length'] = p.length
    reply = new CachedReply(page.status, fields, p.bytes, page.body, encoding, p.typed)
  }
  // Not frozen: writing a frozen record's headers costs Node several µs more per response.
  p.replies[slot] = { age, ttl, reply }
  return reply
}

/** A {@link Reply} whose `[name, value]` pairs are made only when a door asks for them. */
class CachedReply implements Reply {
  #headers: ReadonlyArray<readonly [string, string | string[]]> | undefined
  constructor(
    readonly status: number,
    readonly fields: HeaderFields,
    readonly body: Uint8Array | undefined,
    readonly text: string | undefined,
    readonly encoding: 'utf8' | 'latin1',
    readonly typed: boolean,
  ) {}

  get headers(): ReadonlyArray<readonly [string, string | string[]]> {
    this.#headers ??= Object.entries(this.fields)
    return this.#headers
  }
}
