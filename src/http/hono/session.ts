import type { Context, MiddlewareHandler } from 'hono'
import type { LoadedSession, SessionData, SessionSnapshot, Sessions } from '../../session/index.js'

/** Options of {@link honoSession}. */
export interface HonoSessionOptions {
  readonly sessions: Sessions
  /** Cookie name. Default `'sid'`. */
  readonly cookieName?: string
  /** Cookie attributes. Its lifetime is the sessions' `ttl`, renewed with each write or touch. */
  readonly cookie?: {
    readonly path?: string
    readonly domain?: string
    /** Default `true`; set `false` only for plain-HTTP development. */
    readonly secure?: boolean
    /** Default `'Lax'`. */
    readonly sameSite?: 'Strict' | 'Lax' | 'None'
  }
}

/** The request's session, as `c.get('session')`. Changes are saved when the handler returns. */
export interface HonoSession {
  /** The session id (from the cookie, or new). */
  readonly id: string
  /** False until the session has data or came from the cookie. */
  readonly exists: boolean
  get<T = unknown>(field: string): T | undefined
  set(field: string, value: unknown): void
  delete(field: string): void
  /** A copy of every field. */
  toJSON(): SessionData
  /** New id, same data: call on login (session fixation). The old id is destroyed. */
  regenerate(): Promise<void>
  /** Destroys the session (logout) and clears the cookie; late writes cannot bring it back. */
  destroy(): Promise<void>
}

declare module 'hono' {
  interface ContextVariableMap {
    session: HonoSession
  }
}

/**
 * Session middleware for Hono over the session core. The cookie holds an unguessable 256-bit id
 * (the store holds only its keyed hash); a request's changes are merged field by field into the
 * stored session, an unchanged session is touched at most once per `touchAfter`, and a destroyed
 * session never comes back.
 */
export function honoSession(options: HonoSessionOptions): MiddlewareHandler {
  const { sessions } = options
  const name = options.cookieName ?? 'sid'
  const cookie = options.cookie ?? {}
  const attributes = [
    `Path=${cookie.path ?? '/'}`,
    ...(cookie.domain === undefined ? [] : [`Domain=${cookie.domain}`]),
    'HttpOnly',
    ...(cookie.secure === false ? [] : ['Secure']),
    `SameSite=${cookie.sameSite ?? 'Lax'}`,
  ].join('; ')

  return async function cachekitSession(c, next) {
    const fromCookie = readCookie(c.req.header('cookie'), name)
    const loaded = fromCookie === undefined ? undefined : await sessions.load(fromCookie)
    const id = loaded === undefined || fromCookie === undefined ? sessions.generateId() : fromCookie
    const state = new RequestSession(sessions, id, loaded)
    c.set('session', state)
    await next()
    const outcome = await state.commit()
    if (outcome === 'cleared') setCookie(c, `${name}=; Max-Age=0; ${attributes}`)
    else if (outcome === 'renewed') {
      setCookie(c, `${name}=${state.id}; Max-Age=${Math.floor(sessions.ttl / 1000)}; ${attributes}`)
    }
  }
}

class RequestSession implements HonoSession {
  readonly #sessions: Sessions
  #id: string
  #data: SessionData
  #snapshot: SessionSnapshot | undefined
  #fromStore: boolean
  #changed = false
  #destroyed = false
  #newId: boolean

  constructor(sessions: Sessions, id: string, loaded: LoadedSession | undefined) {
    this.#sessions = sessions
    this.#id = id
    this.#data = loaded === undefined ? {} : { ...loaded.data }
    this.#snapshot = loaded?.snapshot
    this.#fromStore = loaded !== undefined
    this.#newId = loaded === undefined
  }

  get id(): string {
    return this.#id
  }

  get exists(): boolean {
    return this.#fromStore || Object.keys(this.#data).length > 0
  }

  get<T = unknown>(field: string): T | undefined {
    return this.#data[field] as T | undefined
  }

  set(field: string, value: unknown): void {
    this.#data[field] = value
    this.#changed = true
  }

  delete(field: string): void {
    delete this.#data[field]
    this.#changed = true
  }

  toJSON(): SessionData {
    return { ...this.#data }
  }

  async regenerate(): Promise<void> {
    if (this.#fromStore) await this.#sessions.destroy(this.#id)
    this.#id = this.#sessions.generateId()
    this.#snapshot = undefined
    this.#fromStore = false
    this.#newId = true
    this.#destroyed = false
    this.#changed = true
  }

  async destroy(): Promise<void> {
    await this.#sessions.destroy(this.#id)
    this.#destroyed = true
    this.#data = {}
  }

  /** Saves what changed; says whether the cookie must be set, cleared, or left alone. */
  async commit(): Promise<'renewed' | 'cleared' | 'unchanged'> {
    if (this.#destroyed) return this.#fromStore || !this.#newId ? 'cleared' : 'unchanged'
    if (!this.exists) return 'unchanged'
    if (!this.#changed && this.#snapshot !== undefined) {
      const touched = await this.#sessions.touch(this.#id, this.#snapshot)
      return touched === 'touched' ? 'renewed' : 'unchanged'
    }
    const outcome = await this.#sessions.save(this.#id, this.#data, this.#snapshot)
    if (outcome === 'destroyed') return 'cleared'
    return outcome === 'skipped' && !this.#newId ? 'unchanged' : 'renewed'
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim()
      // Our ids are base64url: anything else was not issued here, and is not looked up.
      return /^[\w-]{16,128}$/.test(value) ? value : undefined
    }
  }
  return undefined
}

function setCookie(c: Context, value: string): void {
  c.header('Set-Cookie', value, { append: true })
}
