import type { IncomingMessage, ServerResponse } from 'node:http'

/** The longest body the bridge reads for the admin page (its forms are small). */
const MAX_BODY = 64 * 1024

/**
 * A web `Request` for a Node request, for the admin page's doors. `body` is what a framework
 * already parsed (a string, a Buffer, or a urlencoded form parsed into an object); without it the
 * stream is read, at most 64 KiB.
 */
export async function toWebRequest(
  req: IncomingMessage,
  url: string,
  parsed?: { readonly body: unknown },
): Promise<Request> {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.set(name, value)
  }
  const method = req.method ?? 'GET'
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers })
  let body: string | Buffer
  if (parsed !== undefined && parsed.body !== undefined && parsed.body !== null) {
    const b = parsed.body
    body = typeof b === 'string' || Buffer.isBuffer(b) ? b : new URLSearchParams(formEntries(b)).toString()
    headers.delete('content-length')
  } else {
    body = await readBody(req)
  }
  return new Request(url, { method, headers, body })
}

function formEntries(body: unknown): [string, string][] {
  const out: [string, string][] = []
  if (body === null || typeof body !== 'object') return out
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value)) for (const v of value) out.push([name, String(v)])
    else if (value !== undefined) out.push([name, String(value)])
  }
  return out
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  if (req.readableEnded) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.byteLength
    // One byte over the limit is enough for the handler to refuse it as too large.
    if (size > MAX_BODY) {
      chunks.push(buf.subarray(0, buf.byteLength - (size - MAX_BODY - 1)))
      break
    }
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

/** Writes a web `Response` to a Node response. */
export async function sendWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return
    res.setHeader(name, value)
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer())
  res.end(body)
}
