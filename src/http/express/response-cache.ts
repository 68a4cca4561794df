import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import type { Captured, Forward, ResponseCache } from '../cache/index.js'
import { outgoing } from '../cache/internal.js'
import { currentHeaders, nodeView, stripConditionals, writeReply } from '../node-capture.js'

/** Options of the Express {@link cacheResponses} middleware. */
export interface ExpressCacheResponsesOptions {
  /** Route name in events, instead of Express's route template. */
  readonly name?: string
}

type Chunk = string | Uint8Array

function toBytes(chunk: unknown, encoding: unknown): Uint8Array | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
  }
  if (chunk instanceof Uint8Array) return chunk
  return undefined
}

/**
 * Runs the rest of the chain and captures the response as it passes this middleware: status and
 * headers when the head is written (middlewares mounted after this one have had their say), the
 * body from `write`/`end`. `Set-Cookie` is checked again once the response is finished, so a cookie
 * set later still by a middleware mounted before this one is caught too.
 */
function run(
  rc: ResponseCache,
  req: Request,
  res: Response,
  next: NextFunction,
  forward: Forward,
): Promise<Captured> {
  const o = rc.engine.o
  if (forward.capture) stripConditionals(req.headers)
  return new Promise<Captured>((resolve) => {
    const raw = res as unknown as ServerResponse
    const chunks: Uint8Array[] = []
    let size = 0
    let over = false
    let status = 200
    let headers: string[] = []
    const { writeHead, write, end } = raw
    raw.writeHead = function cachekitWriteHead(this: ServerResponse, code: number, ...args: unknown[]) {
      raw.writeHead = writeHead
      const fields = args.find((a) => a !== null && typeof a === 'object') as
        | OutgoingHttpHeaders
        | string[]
        | undefined
      if (Array.isArray(fields)) {
        for (let i = 0; i + 1 < fields.length; i += 2)
          this.appendHeader(fields[i] as string, fields[i + 1] as string)
      } else if (fields) {
        for (const [name, value] of Object.entries(fields))
          if (value !== undefined) this.setHeader(name, value)
      }
      status = code
      headers = currentHeaders(this)
      const add = outgoing(o, forward, code, headers)
      for (let i = 0; i < add.headers.length; i += 2)
        this.setHeader(add.headers[i] as string, add.headers[i + 1] as string)
      if (add.etag) headers.push('ETag', add.etag)
      const reason = typeof args[0] === 'string' ? args[0] : undefined
      return reason === undefined
        ? writeHead.call(this, code)
        : (writeHead as (c: number, r: string) => ServerResponse).call(this, code, reason)
    } as typeof raw.writeHead
    const keep = (chunk: unknown, encoding: unknown) => {
      if (!forward.capture || over) return
      const bytes = toBytes(chunk, encoding)
      if (!bytes) return
      size += bytes.byteLength
      if (size > o.maxBodyBytes) {
        over = true
        chunks.length = 0
      } else chunks.push(bytes)
    }
    raw.write = function cachekitWrite(this: ServerResponse, chunk: Chunk, ...rest: unknown[]) {
      keep(chunk, rest[0])
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
    } as typeof raw.write
    raw.end = function cachekitEnd(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      keep(chunk, rest[0])
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest)
    } as typeof raw.end
    const route = () => (req.route ? `${req.baseUrl}${(req.route as { path: string }).path}` : undefined)
    const finish = () => {
      raw.removeListener('close', closed)
      const captured = {
        status,
        headers,
        ...(forward.capture ? { body: concat(chunks, size) } : {}),
        ...((route() ?? undefined) === undefined ? {} : { route: route() as string }),
      }
      if (!forward.capture) return resolve(captured)
      const refused = over
        ? 'too-large'
        : raw.getHeader('set-cookie') !== undefined
          ? 'set-cookie'
          : undefined
      resolve(refused ? { ...captured, refused } : captured)
    }
    const closed = () => {
      raw.removeListener('finish', finish)
      resolve({ status, headers, refused: 'aborted' })
    }
    raw.once('finish', finish)
    raw.once('close', closed)
    next()
  })
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  return Buffer.concat(chunks, size)
}

/**
 * Express middleware serving pages from a {@link ResponseCache}: `app.get('/articles/:id',
 * cacheResponses(pages), handler)` or `app.use(cacheResponses(pages))`. Mount it before
 * compression: it then stores the compressed bytes with their `Content-Encoding` and `Vary`.
 */
export function cacheResponses(rc: ResponseCache, options: ExpressCacheResponsesOptions = {}) {
  return function cachekitResponseCache(req: Request, res: Response, next: NextFunction): void {
    const view = nodeView(req.method, req.originalUrl, req.headers)
    // A fresh hit in memory is served before serveNow returns (no promise).
    rc.engine
      .serveNow(view, {
        run: (forward) => run(rc, req, res, next, forward),
        reply: (reply) => writeReply(res as unknown as ServerResponse, reply),
        route: () => options.name,
      })
      ?.catch(next)
  }
}
