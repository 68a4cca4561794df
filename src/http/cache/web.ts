import type { HeaderList } from './headers.js'
import type { RequestView, Resolved } from './options.js'
import { responseRefusal } from './policy.js'
import { type Captured, type Forward, outgoing, type Reply } from './reply.js'

const CONDITIONALS = ['if-none-match', 'if-modified-since']

/** Path and query of an absolute URL, without parsing it whole (a server's request URL has no fragment). */
export function pathAndQuery(url: string): string {
  const scheme = url.indexOf('//')
  const at = url.indexOf('/', scheme < 0 ? 0 : scheme + 2)
  return at < 0 ? '/' : url.slice(at)
}

/** A {@link RequestView} over a web `Request`. */
export function webView(request: Request): RequestView {
  return {
    method: request.method.toUpperCase(),
    url: pathAndQuery(request.url),
    header: (name) => request.headers.get(name) ?? undefined,
  }
}

/** The request without validators, so the handler answers in full (the cache answers 304 itself). */
export function withoutConditionals(request: Request): Request {
  if (!CONDITIONALS.some((name) => request.headers.has(name))) return request
  const headers = new Headers(request.headers)
  for (const name of CONDITIONALS) headers.delete(name)
  return new Request(request, { headers })
}

function list(headers: Headers): string[] {
  const flat: string[] = []
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') flat.push(name, value)
  })
  for (const cookie of headers.getSetCookie()) flat.push('set-cookie', cookie)
  return flat
}

/**
 * Runs a web response through the cache's rules: adds the cache's headers and, when storing is
 * intended, reads the body up to `maxBodyBytes` (a longer one is passed on whole, not stored).
 */
export async function captureWeb(
  o: Resolved,
  res: Response,
  fwd: Forward,
): Promise<{ response: Response; captured: Captured }> {
  const headers: HeaderList = list(res.headers)
  const add = outgoing(o, fwd, res.status, headers)
  const out = new Headers(res.headers)
  for (let i = 0; i < add.headers.length; i += 2)
    out.set(add.headers[i] as string, add.headers[i + 1] as string)
  const init = { status: res.status, statusText: res.statusText, headers: out }
  const refused = fwd.capture ? responseRefusal(res.status, headers, o) : undefined
  if (!fwd.capture || refused) {
    return {
      response: new Response(res.body, init),
      captured: { status: res.status, headers, ...(refused ? { refused } : {}) },
    }
  }
  // What is stored is what the client got, in the same order, minus the cache's own headers
  // (its ETag excepted: it belongs to the entry).
  const ours = new Set<string>()
  for (let i = 0; i < add.headers.length; i += 2) ours.add((add.headers[i] as string).toLowerCase())
  ours.delete('etag')
  const sent = list(out)
  const stored: string[] = []
  for (let i = 0; i < sent.length; i += 2) {
    if (!ours.has(sent[i] as string)) stored.push(sent[i] as string, sent[i + 1] as string)
  }
  if (!res.body) {
    return {
      response: new Response(null, init),
      captured: { status: res.status, headers: stored, body: new Uint8Array(0) },
    }
  }
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
    if (size > o.maxBodyBytes) {
      // Too long to store: what was read goes out first, then the rest as it comes.
      if (add.etag) out.delete('etag')
      if (o.debugHeaders) out.set('Cache-Status', 'cachekit; fwd=bypass; detail=too-large')
      const rest = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk)
        },
        async pull(controller) {
          const next = await reader.read()
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        },
        cancel: (reason) => reader.cancel(reason),
      })
      return {
        response: new Response(rest, init),
        captured: { status: res.status, headers, refused: 'too-large' },
      }
    }
  }
  const body = concat(chunks, size)
  out.delete('transfer-encoding')
  return { response: new Response(body, init), captured: { status: res.status, headers: stored, body } }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const body = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}

/**
 * A web `Response` for a reply from the cache (no body for HEAD and 304). Headers go as the reply's
 * own record (a repeated name joined with `, `, which no stored header forbids: Set-Cookie is never
 * stored): runtimes such as @hono/node-server pass such a record straight to `writeHead`, without
 * building a `Headers` object.
 */
export function webReply(reply: Reply, method: string): Response {
  let headers = reply.fields
  for (const name in headers) {
    if (Array.isArray(headers[name])) {
      headers = Object.fromEntries(
        Object.entries(headers).map(([n, v]) => [n, Array.isArray(v) ? v.join(', ') : v]),
      )
      break
    }
  }
  // UTF-8 text goes as a string (written with the head in one piece); a string would add a
  // Content-Type of its own to a page without one, so such pages and other bytes go as bytes.
  const body =
    method === 'HEAD' || !reply.body || reply.status === 204
      ? null
      : reply.encoding === 'utf8' && reply.typed
        ? (reply.text as string)
        : reply.body
  return new Response(body as ConstructorParameters<typeof Response>[0], {
    status: reply.status,
    headers: headers as Record<string, string>,
  })
}
