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

  constructor(
    readonly o: Resolved,
    namespace: string,
  ) {
    this.pages = o.cache.namespace(namespace)
  }

  async serve(view: RequestView, ex: Exchange): Promise<void> {
    const o = this.o
    const refusal = requestRefusal(view, o)
    if (refusal) return this.#bypass(view, ex, refusal)
    const primary = primaryKey(view, o)
    if (typeof primary === 'string') return this.#bypass(view, ex, primary)
    const tags = o.tags ? [...o.tags(view)] : undefined
    if (view.method === 'HEAD') return this.#head(view, ex, primary.key)
    if (o.honorNoCache && requestDirectives(view).has('no-cache')) {
      await this.#fill(view, ex, { fwd: 'request', capture: true }, primary.key, undefined, tags, true)
      return
    }
    const started = Date.now()
    await this.#lookup(view, ex, primary.key, undefined, tags, started)
  }

  async #lookup(
    view: RequestView,
    ex: Exchange,
    primary: string,
    names: readonly string[] | undefined,
    tags: string[] | undefined,
    started: number,
  ): Promise<void> {
    const key = names ? variantKey(primary, names, view) : primary
    let own: Promise<Filled> | undefined
    let value: Stored
    try {
      value = await this.pages.getOrSet<Stored>(
        key,
        async (ctx: FactoryContext<Stored>) => {
          own = this.#fill(view, ex, { fwd: 'miss', capture: true }, primary, names, tags, false)
          const filled = await own
          ctx.setTtl(filled.ttl)
          return filled.value
        },
        // grace 0: the cache's own getOrSet defaults must never refresh a page in the background,
        // since only a request can run the handler. Grace is this engine's (refresh lock below).
        { ttl: this.o.ttl + this.o.grace, grace: 0, ...(tags ? { tags } : {}) },
      )
    } catch (error) {
      // The handler ran here: its response is this request's (and its error, if it threw, is the
      // caller's). Otherwise the cache is out of order (store down, waited past hardTimeout on
      // another request's run): serve the request uncached.
      if (own) return void (await own)
      const timedOut = (error as { code?: unknown } | null)?.code === 'E_FACTORY_TIMEOUT'
      return this.#bypass(view, ex, timedOut ? 'timeout' : 'error')
    }
    if (own) return
    if (value.kind === 'pass') return this.#bypass(view, ex, value.reason)
    if (value.kind === 'vary') {
      if (names) return this.#bypass(view, ex, 'vary-changed')
      return this.#lookup(view, ex, primary, value.headers, tags, started)
    }
    const now = Date.now()
    if (now < value.freshUntil) {
      return this.#send(view, ex, value, value.storedAt > started ? 'collapsed' : 'hit', now)
    }
    // Stale, inside grace: one request refreshes it (the one that takes the lock), the rest get it stale.
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
