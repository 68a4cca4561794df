import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ResponseCache } from '../cache/index.js'
import { type Captured, type Forward, fromRecord, outgoing } from '../cache/internal.js'
import { nodeView, stripConditionals } from '../node-capture.js'
import { type OnSendDone, openPlugin } from './plugin.js'

/** Options of the Fastify {@link cacheResponses} plugin. */
export interface FastifyCacheResponsesOptions {
  /** Route name in events, instead of Fastify's route template. */
  readonly name?: string
}

interface State {
  forward?: Forward
  finish?: (captured: Captured) => void
  status: number
  headers: string[]
  body?: Uint8Array
  refused?: string
}

const STATE = Symbol('cachekit.responseCache')
type WithState = FastifyRequest & { [STATE]?: State }

/** Headers the cache sets on every reply, whatever an earlier hook put there. */
const OWN = new Set(['Age', 'Cache-Status', 'X-Cache', 'Content-Length'])

function payloadBytes(payload: unknown): Uint8Array | undefined {
  if (payload === null || payload === undefined) return new Uint8Array(0)
  if (typeof payload === 'string') return Buffer.from(payload)
  if (payload instanceof Uint8Array) return payload
  return undefined
}

/**
 * A Fastify plugin serving pages from a {@link ResponseCache}: `app.register(cacheResponses(pages))`
 * (like fastify-plugin, it applies to the routes of the instance that registers it). The payload
 * is captured in an `onSend` hook (hooks registered later run again on every request) and stored
 * once the response is finished, every hook having run: a `Set-Cookie` added by any of them is caught.
 */
export function cacheResponses(rc: ResponseCache, options: FastifyCacheResponsesOptions = {}) {
  const o = rc.engine.o

  // Callback-style: a fresh hit in memory is sent before this returns (no promise). A hook that
  // sends a reply does not call `done`: the chain stops there.
  function onRequest(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    let moved = false
    const proceed = (error?: unknown) => {
      if (moved) return
      moved = true
      done(error as Error | undefined)
    }
    const route = () => options.name ?? request.routeOptions?.url
    rc.engine
      .serveNow(nodeView(request.method, request.url, request.headers), {
        run(forward) {
          const state: State = { status: 200, headers: [], forward }
          ;(request as WithState)[STATE] = state
          if (forward.capture) stripConditionals(request.headers)
          const captured = new Promise<Captured>((resolve) => {
            let settled = false
            state.finish = (result) => {
              if (settled) return
              settled = true
              resolve(result)
            }
          })
          // On the raw response rather than in an onResponse hook: a hook would make Fastify watch
          // every response of the scope for its end, hits included.
          reply.raw.once('finish', () => finished(request, reply, state))
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) state.finish?.({ status: 0, headers: [], refused: 'aborted' })
          })
          proceed()
          return captured
        },
        reply(cached) {
          moved = true
          reply.code(cached.status)
          const { fields } = cached
          for (const name in fields) {
            if (OWN.has(name) || !reply.hasHeader(name)) reply.header(name, fields[name])
          }
          const { body } = cached
          if (body === undefined) reply.send()
          else reply.send(cached.encoding === 'utf8' && cached.typed ? cached.text : (body as Buffer))
        },
        route,
      })
      ?.catch(proceed)
  }

  // Callback-style hook: on a hit it does nothing, and costs no promise.
  function onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: OnSendDone): void {
    const state = (request as WithState)[STATE]
    const forward = state?.forward
    if (!state || !forward) {
      done(null, payload)
      return
    }
    const headers = fromRecord(reply.getHeaders())
    const add = outgoing(o, forward, reply.statusCode, headers)
    for (let i = 0; i < add.headers.length; i += 2) reply.header(add.headers[i] as string, add.headers[i + 1])
    if (add.etag) headers.push('etag', add.etag)
    state.status = reply.statusCode
    state.headers = headers
    if (forward.capture) {
      const body = payloadBytes(payload)
      if (body === undefined) state.refused = 'stream'
      else if (body.byteLength > o.maxBodyBytes) state.refused = 'too-large'
      else state.body = body
    }
    done(null, payload)
  }

  // Once the response is sent, every hook has run: a Set-Cookie added by any of them is seen.
  function finished(request: FastifyRequest, reply: FastifyReply, state: State): void {
    if (!state.finish) return
    const route = options.name ?? request.routeOptions?.url
    const lateCookie = reply.getHeader('set-cookie') !== undefined ? 'set-cookie' : undefined
    const refused = state.refused ?? lateCookie
    state.finish({
      status: state.status,
      headers: state.headers,
      ...(state.body ? { body: state.body } : {}),
      ...(refused ? { refused } : {}),
      ...(route ? { route } : {}),
    })
  }

  return openPlugin('cachekit-response-cache', function cachekitResponseCachePlugin(fastify, _opts, done) {
    fastify.addHook('onRequest', onRequest)
    fastify.addHook('onSend', onSend)
    done()
  })
}
