import crypto from 'node:crypto'
import { directives, type HeaderList, headerValue, headerValues, varyNames } from './headers.js'
import type { RequestView, Resolved } from './options.js'

/** SHA-1 in base64url: the one-shot `crypto.hash` where Node has it (20.12+), else a Hash object. */
const sha1: (input: string) => string =
  typeof crypto.hash === 'function'
    ? (input) => crypto.hash('sha1', input, 'base64url')
    : (input) => crypto.createHash('sha1').update(input).digest('base64url')

/** Longest path kept readable in a key (so `invalidatePath` can find it); longer paths bypass. */
export const MAX_PATH = 800

/**
 * Why a request must not use the cache, or undefined. The documented rules, in order: a method
 * not configured; a `Range` request; `Authorization` or a session cookie without a per-user `key`;
 * with `honorNoCache`, a request `Cache-Control: no-store`.
 */
export function requestRefusal(view: RequestView, o: Resolved): string | undefined {
  if (!o.methods.has(view.method)) return 'method'
  if (view.header('range') !== undefined) return 'range'
  if (o.key === undefined) {
    if (view.header('authorization') !== undefined) return 'authorization'
    const cookie = view.header('cookie')
    if (cookie && hasSessionCookie(cookie, o)) return 'session-cookie'
  }
  if (o.honorNoCache && requestDirectives(view).has('no-store')) return 'request-no-store'
  return undefined
}

export function requestDirectives(view: RequestView): Set<string> {
  const set = directives(view.header('cache-control'))
  if (view.header('pragma')?.toLowerCase().includes('no-cache')) set.add('no-cache')
  return set
}

function hasSessionCookie(cookie: string, o: Resolved): boolean {
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=')
    const name = (eq < 0 ? part : part.slice(0, eq)).trim()
    if (name && o.sessionCookie(name)) return true
  }
  return false
}

/**
 * Why a response must not be stored, or undefined. The documented rules, in order: a status not in
 * `statuses`; `Set-Cookie`; `Cache-Control` with `no-store`, `private` or `no-cache`; `Vary: *`;
 * with `learnVary: false`, a `Vary` naming a header outside `vary`; `text/event-stream`; a
 * `Content-Length` or body over `maxBodyBytes`.
 */
export function responseRefusal(
  status: number,
  headers: HeaderList,
  o: Resolved,
  bodyBytes?: number,
): string | undefined {
  if (!o.statuses.has(status)) return 'status'
  if (headerValue(headers, 'set-cookie') !== undefined) return 'set-cookie'
  const cc = directives(headerValues(headers, 'cache-control'))
  if (cc.has('no-store')) return 'no-store'
  if (cc.has('private')) return 'private'
  if (cc.has('no-cache')) return 'no-cache'
  const vary = varyNames(headerValues(headers, 'vary'))
  if (vary.includes('*')) return 'vary-star'
  if (!o.learnVary && vary.some((name) => !o.vary.includes(name))) return 'vary'
  if (headerValue(headers, 'content-type')?.toLowerCase().startsWith('text/event-stream')) return 'stream'
  const length = Number(headerValue(headers, 'content-length'))
  if (Number.isFinite(length) && length > o.maxBodyBytes) return 'too-large'
  if (bodyBytes !== undefined && bodyBytes > o.maxBodyBytes) return 'too-large'
  return undefined
}

/** Request headers a response varies on beyond the configured ones (sorted, lowercase). */
export function learnedVary(headers: HeaderList, o: Resolved): string[] {
  const names = varyNames(headerValues(headers, 'vary')).filter((name) => !o.vary.includes(name))
  return [...new Set(names)].sort()
}

/** A primary key and the path it starts with; shared by every request that maps to it. */
export interface PrimaryKey {
  readonly key: string
  readonly path: string
}

/**
 * Primary keys already worked out, per options: the key is a pure function of the request parts
 * read below, so a repeated request (the common case: a hot page) skips the query normalisation
 * and the hash. Bounded in entries and in the length of what is remembered. `byUrl` serves the
 * common configuration (no per-user key, no `vary`) for GET and HEAD, where the URL and the host
 * are all the key depends on: one lookup by the URL string, nothing concatenated.
 */
interface Memo {
  readonly general: Map<string, PrimaryKey>
  readonly byUrl: Map<string, { readonly host: string; readonly primary: PrimaryKey }>
}
const memos = new WeakMap<Resolved, Memo>()
const MEMO_ENTRIES = 4096
const MEMO_INPUT_CHARS = 1024

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (key.length > MEMO_INPUT_CHARS) return
  if (map.size >= MEMO_ENTRIES) map.delete(map.keys().next().value as string)
  map.set(key, value)
}

/** The primary key of a request: readable path, then a hash of everything else; or a refusal. */
export function primaryKey(view: RequestView, o: Resolved): PrimaryKey | string {
  const url = view.url
  let memo = memos.get(o)
  if (memo === undefined) memos.set(o, (memo = { general: new Map(), byUrl: new Map() }))
  const simple =
    o.key === undefined && o.vary.length === 0 && (view.method === 'GET' || view.method === 'HEAD')
  if (simple) {
    const known = memo.byUrl.get(url)
    if (known !== undefined && known.host === (view.header('host') ?? '')) return known.primary
  }
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  if (path.length > MAX_PATH) return 'path-too-long'
  let user = ''
  if (o.key) {
    const part = o.key(view)
    if (part === undefined) return 'key'
    user = part
  }
  const host = view.header('host') ?? ''
  // Everything the key depends on, raw: the URL (path and query as sent), then the same parts
  // as the hashed input below, separated by NUL (the hash input uses the same separators).
  let raw = `${view.method === 'HEAD' ? 'GET' : view.method}\0${host}\0${user}`
  for (const name of o.vary) raw += `\0${view.header(name) ?? '\u0001'}`
  const memoKey = `${url}\0${raw}`
  let primary = memo.general.get(memoKey)
  if (primary === undefined) {
    let input = `${view.method === 'HEAD' ? 'GET' : view.method}\0${host}\0${
      q < 0 ? '' : normaliseQuery(url.slice(q + 1), o)
    }\0${user}`
    for (const name of o.vary) input += `\0${view.header(name) ?? '\u0001'}`
    primary = { key: `${path}#${sha1(input)}`, path }
    remember(memo.general, memoKey, primary)
  }
  if (simple) remember(memo.byUrl, url, { host, primary })
  return primary
}

/** The key of one variant of a page whose responses vary on `names`. */
export function variantKey(primary: string, names: readonly string[], view: RequestView): string {
  let input = ''
  for (const name of names) input += `${name}\0${view.header(name) ?? '\u0001'}\0`
  return `${primary}~${sha1(input)}`
}

/** Sorted parameters (stable for repeated names), ignored ones dropped, re-encoded. */
export function normaliseQuery(query: string, o: Resolved): string {
  if (query === '') return ''
  const params = [...new URLSearchParams(query)].filter(([name]) => !o.ignoreQuery(name))
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return new URLSearchParams(params).toString()
}

/** Weak comparison (RFC 9110 §8.8.3.2) of an ETag against an `If-None-Match` list. */
export function noneMatch(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const match of ifNoneMatch.matchAll(/(?:W\/)?"[^"]*"/g)) {
    const tag = match[0].startsWith('W/') ? match[0].slice(2) : match[0]
    if (tag === opaque) return true
  }
  return false
}
