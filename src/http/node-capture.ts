import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { Reply, RequestView } from './cache/index.js'

/** A {@link RequestView} over Node request parts (Express, Fastify). */
export function nodeView(method: string | undefined, url: string, headers: IncomingHttpHeaders): RequestView {
  return {
    method: (method ?? 'GET').toUpperCase(),
    url,
    header: (name) => {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
  }
}

/** Removes validators so the handler answers in full: the cache answers 304 itself from the stored ETag. */
export function stripConditionals(headers: IncomingHttpHeaders): void {
  delete headers['if-none-match']
  delete headers['if-modified-since']
}

/** The response's headers now, as a flat list with names in the case they were set. */
export function currentHeaders(res: ServerResponse): string[] {
  const list: string[] = []
  // getRawHeaderNames (Node >= 15.13) keeps the case the names were set in; @types/node lacks it.
  const names = (res as ServerResponse & { getRawHeaderNames(): string[] }).getRawHeaderNames()
  for (const name of names) {
    const value = res.getHeader(name)
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) list.push(name, v)
    else list.push(name, String(value))
  }
  return list
}

/**
 * Writes a reply from the cache. A header the response already has was set by a middleware that
 * runs before the cache on every request (a request id, CORS): it keeps its value for this request.
 */
export function writeReply(res: ServerResponse, reply: Reply): void {
  res.statusCode = reply.status
  const { fields } = reply
  for (const name in fields) {
    if (OWN.has(name) || !res.hasHeader(name)) res.setHeader(name, fields[name] as string | string[])
  }
  // Node counts the body it is given, unless a length was set: one an earlier middleware set is
  // stale. (Removing an absent one would stop Node from sending its own.)
  if (!('Content-Length' in fields) && res.hasHeader('content-length')) {
    if (reply.text === undefined) res.removeHeader('content-length')
    else res.setHeader('Content-Length', Buffer.byteLength(reply.text, reply.encoding))
  }
  if (reply.text === undefined) res.end()
  else res.end(reply.text, reply.encoding)
}

/** Headers the cache sets on every reply, whatever an earlier middleware put there. */
const OWN = new Set(['Age', 'Cache-Status', 'X-Cache', 'Content-Length'])
