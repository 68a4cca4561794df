import { isUtf8 } from 'node:buffer'
import type { Cache, FactoryContext } from '../../cache/index.js'
import { escapeGlob } from '../../internal/index.js'
import { publish } from './events.js'
import { headerValue, storable } from './headers.js'
import type { RequestView, Resolved } from './options.js'
import {
  learnedVary,
  primaryKey,
  requestDirectives,
  requestRefusal,
  responseRefusal,
  variantKey,
} from './policy.js'
import {
  type Captured,
  type Forward,
  newEtag,
  type Reply,
  replyFor,
  type ServedAs,
  type Stored,
  type StoredPage,
} from './reply.js'

/** How the engine talks to one framework for one request. */
export interface Exchange {
  /** Runs the app for this request; resolves once the response is complete, with what was captured. */
  run(forward: Forward): Promise<Captured>
  /** Sends a response from the cache. */
  reply(reply: Reply): void
  /** The route template, if the framework knows one (asked when an event is published). */
  route?(): string | undefined
}

/** Refusals worth remembering for `passTtl`: the next callers bypass at once. Others concern one request only. */
const REMEMBERED = new Set([
  'status',
  'set-cookie',
  'no-store',
  'private',
  'no-cache',
  'vary-star',
  'vary',
  'stream',
  'too-large',
])
/** How long one request may hold the right to refresh a stale page. */
const REFRESH_LOCK_MS = 10_000
const noop = () => {}
/** A body as the string a page keeps: UTF-8 text as such, other bytes in latin1. */
function bodyText(bytes: Uint8Array): { body: string; encoding?: 'latin1' } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return isUtf8(buffer)
    ? { body: buffer.toString('utf8') }
    : { body: buffer.toString('latin1'), encoding: 'latin1' }
}

interface Filled {
  readonly value: Stored
  /** TTL for the value at the key being filled; 0: do not store. */
  readonly ttl: number
}

/**
 * The response cache's engine: request rules, lookup with single flight (`getOrSet`), grace,
 * Vary variants, storing, events. Framework doors give it an {@link Exchange}.
 */
export class Engine {
  readonly pages: Cache
  /** The lookup's getOrSet options for untagged pages, built once (a hit is the hot path). */
  readonly #untagged: { readonly ttl: number; readonly grace: 0 }

  constructor(
    readonly o: Resolved,
    namespace: string,
  ) {
    this.pages = o.cache.namespace(namespace)
    this.#untagged = Object.freeze({ ttl: o.ttl + o.grace, grace: 0 })
  }

  async serve(view: RequestView, ex: Exchange): Promise<void> {
    await this.serveNow(view, ex)
  }

  /**
   * {@link Engine.serve}, replying before it returns (and returning undefined) when the page is
   * a fresh hit the store gave synchronously (memory, L1): no promise on the hot path. Otherwise
   * a promise settled once the request is served; errors always come back as a rejection.
   */
  serveNow(view: RequestView, ex: Exchange): Promise<void> | undefined {
    try {
      const o = this.o
      const refusal = requestRefusal(view, o)
      if (refusal) return this.#bypass(view, ex, refusal)
      const primary = primaryKey(view, o)
      if (typeof primary === 'string') return this.#bypass(view, ex, primary)
      const tags = o.tags ? [...o.tags(view)] : undefined
      if (view.method === 'HEAD') return this.#head(view, ex, primary.key)
      if (o.honorNoCache && requestDirectives(view).has('no-cache')) {
        return this.#fill(
          view,
          ex,
          { fwd: 'request', capture: true },
          primary.key,
          undefined,
          tags,
          true,
        ).then(noop)
      }
      return this.#lookup(view, ex, primary.key, undefined, tags, Date.now())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #lookup(
    view: RequestView,
    ex: Exchange,
    primary: string,
    names: readonly string[] | undefined,
    tags: string[] | undefined,
    started: number,
  ): Promise<void> | undefined {
    const key = names ? variantKey(primary, names, view) : primary
    const own: { filled?: Promise<Filled> } = {}
    const got = this.pages.getOrSetNow<Stored>(
      key,
      async (ctx: FactoryContext<Stored>) => {
        const filled = await (own.filled = this.#fill(
          view,
          ex,
          { fwd: 'miss', capture: true },
          primary,
          names,
          tags,
          false,
        ))
        ctx.setTtl(filled.ttl)
        return filled.value
      },
      // grace 0: the cache's own getOrSet defaults must never refresh a page in the background,
      // since only a request can run the handler. Grace is this engine's (refresh lock below).
      tags ? { ...this.#untagged, tags } : this.#untagged,
    )
    if (got instanceof Promise)
      return this.#awaitLookup(got, own, view, ex, key, primary, names, tags, started)
    // Read synchronously: no time has passed since `started` worth a second clock read.
    return this.#found(got.value, view, ex, key, primary, names, tags, started, started)
  }

  async #awaitLookup(
    got: Promise<Stored>,
    own: { filled?: Promise<Filled> },
    view: RequestView,
    ex: Exchange,
    key: string,
    primary: string,
    names: readonly string[] | undefined,
    tags: string[] | undefined,
    started: number,
  ): Promise<void> {
    let value: Stored
    try {
      value = await got
    } catch (error) {
      // The handler ran here: its response is this request's (and its error, if it threw, is the
      // caller's). Otherwise the cache is out of order (store down, waited past hardTimeout on
      // another request's run): serve the request uncached.
      if (own.filled) return void (await own.filled)
      const timedOut = (error as { code?: unknown } | null)?.code === 'E_FACTORY_TIMEOUT'
      return this.#bypass(view, ex, timedOut ? 'timeout' : 'error')
    }
    if (own.filled) return
    return this.#found(value, view, ex, key, primary, names, tags, started, Date.now())
  }

  /** Serves what the lookup found (not run here): a page, fresh or stale, or a marker. */
  #found(
    value: Stored,
    view: RequestView,
    ex: Exchange,
    key: string,
    primary: string,
    names: readonly string[] | undefined,
    tags: string[] | undefined,
    started: number,
    now: number,
  ): Promise<void> | undefined {
    if (value.kind === 'pass') return this.#bypass(view, ex, value.reason)
    if (value.kind === 'vary') {
      if (names) return this.#bypass(view, ex, 'vary-changed')
      return this.#lookup(view, ex, primary, value.headers, tags, started)
    }
    if (now < value.freshUntil) {
      this.#send(view, ex, value, value.storedAt > started ? 'collapsed' : 'hit', now)
      return undefined
    }
    return this.#stale(value, view, ex, key, primary, names, tags, now)
  }

  /** Stale, inside grace: one request refreshes it (the one that takes the lock), the rest get it stale. */
  async #stale(
    value: StoredPage,
    view: RequestView,
    ex: Exchange,
    key: string,
    primary: string,
    names: readonly string[] | undefined,
    tags: string[] | undefined,
    now: number,
  ): Promise<void> {
    const lock = `${key}!refresh`
    const won = await this.pages.add(lock, 1, { ttl: REFRESH_LOCK_MS }).catch(() => false)
    if (!won) return this.#send(view, ex, value, 'stale', now)
    const filled = await this.#fill(view, ex, { fwd: 'stale', capture: true }, primary, names, tags, true)
    if (filled.value.kind !== 'pass') await this.pages.delete(lock).catch(noop)
  }

  #send(view: RequestView, ex: Exchange, page: StoredPage, as: ServedAs, now: number): void {
    ex.reply(replyFor(page, view, as, this.o, now))
    publish(as === 'collapsed' ? 'miss' : as, view.method, this.o.name ?? page.route)
  }

  async #head(view: RequestView, ex: Exchange, primary: string): Promise<void> {
    let value = (await this.pages.get<Stored>(primary).catch(noop)) ?? undefined
    if (value?.kind === 'vary') {
      value =
        (await this.pages.get<Stored>(variantKey(primary, value.headers, view)).catch(noop)) ?? undefined
    }
    if (value?.kind === 'page') {
      const now = Date.now()
      return this.#send(view, ex, value, now < value.freshUntil ? 'hit' : 'stale', now)
    }
    // HEAD never fills the cache: a GET body cannot be made from it.
    const captured = await ex.run({ fwd: 'miss', capture: false })
    publish('miss', view.method, this.#route(ex, captured))
  }

  async #bypass(view: RequestView, ex: Exchange, reason: string): Promise<void> {
    const captured = await ex.run({ fwd: 'bypass', detail: reason, capture: false })
    publish('bypass', view.method, this.#route(ex, captured), reason)
  }

  #route(ex: Exchange, captured?: Captured): string | undefined {
    return this.o.name ?? captured?.route ?? ex.route?.()
  }

  /**
   * Runs the app and decides what to keep. With `write`, stores it itself (refresh, client
   * no-cache) and never replaces a page with a refusal; otherwise returns it for `getOrSet`.
   */
  async #fill(
    view: RequestView,
    ex: Exchange,
    forward: Forward,
    primary: string,
    names: readonly string[] | undefined,
    tags: string[] | undefined,
    write: boolean,
  ): Promise<Filled> {
    const o = this.o
    const captured = await ex.run(forward)
    const route = this.#route(ex, captured)
    publish('miss', view.method, route)
    const reason =
      captured.refused ??
      (captured.body
        ? responseRefusal(captured.status, captured.headers, o, captured.body.byteLength)
        : 'aborted')
    if (reason) {
      publish('bypass', view.method, route, reason)
      return { value: { kind: 'pass', reason }, ttl: REMEMBERED.has(reason) ? o.passTtl : 0 }
    }
    const now = Date.now()
    const headers = storable(captured.headers)
    let etag = headerValue(headers, 'etag')
    if (etag === undefined) headers.push('ETag', (etag = newEtag()))
    const page: StoredPage = {
      kind: 'page',
      status: captured.status,
      headers,
      ...bodyText(captured.body as Uint8Array),
      etag,
      storedAt: now,
      freshUntil: now + o.ttl,
      ...(route === undefined ? {} : { route }),
    }
    const ttl = o.ttl + o.grace
    const options = { ttl, ...(tags ? { tags } : {}) }
    const learned = learnedVary(captured.headers, o)
    const here = names ?? []
    let filled: Filled
    if (learned.join() === here.join()) filled = { value: page, ttl }
    else if (learned.length === 0) {
      // The app no longer varies: the page goes back to the primary key.
      await this.pages.set(primary, page, options).catch(noop)
      filled = { value: page, ttl: 0 }
    } else {
      await this.pages.set(variantKey(primary, learned, view), page, options).catch(noop)
      const marker: Stored = { kind: 'vary', headers: learned }
      if (names) {
        await this.pages.set(primary, marker, options).catch(noop)
        filled = { value: page, ttl: 0 }
      } else filled = { value: marker, ttl }
    }
    if (write && filled.ttl > 0) {
      const at = names ? variantKey(primary, names, view) : primary
      await this.pages.set(at, filled.value, options).catch(noop)
    }
    publish('store', view.method, route)
    return filled
  }

  invalidate(tag: string): Promise<number> {
    return this.pages.deleteByTag(tag)
  }

  invalidatePath(prefix: string): Promise<number> {
    return this.pages.deletePattern(`${escapeGlob(prefix)}*`)
  }
}
