import type { LoadedSession, SessionData, SessionSnapshot, Sessions } from './sessions.js'

/** Cookie options of the session middlewares (Express, Hono). */
export interface SessionCookieOptions {
  readonly path?: string
  readonly domain?: string
  /** Default `true`; set `false` only for plain-HTTP development. */
  readonly secure?: boolean
  /** Default `'Lax'`. */
  readonly sameSite?: 'Strict' | 'Lax' | 'None'
}

/** Options of the session middlewares (`expressSession`, `honoSession`). */
export interface SessionMiddlewareOptions {
  readonly sessions: Sessions
  /** Cookie name. Default `'sid'`. */
  readonly cookieName?: string
  /** Cookie attributes. Its lifetime is the sessions' `ttl`, renewed with each write or touch. */
  readonly cookie?: SessionCookieOptions
}

/** The request's session in the session middlewares. Changes are saved when the handler is done. */
export interface RequestSession {
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

/** One request's session, loaded from its cookie, as both middlewares run it. */
export interface RequestSessionRun {
  readonly session: RequestSession
  /** Saves what changed; answers the `Set-Cookie` value to send, if any. */
  commit(): Promise<string | undefined>
}

/**
 * The framework-neutral part of a session middleware: reads the id from the `Cookie` header, loads
 * the session, and at the end saves what the request changed and says which cookie to send.
 */
export function sessionMiddlewareCore(
  options: SessionMiddlewareOptions,
): (cookieHeader: string | undefined) => Promise<RequestSessionRun> {
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
  const maxAge = Math.floor(sessions.ttl / 1000)
  return async (header) => {
    const fromCookie = readCookie(header, name)
    const loaded = fromCookie === undefined ? undefined : await sessions.load(fromCookie)
    const id = loaded === undefined || fromCookie === undefined ? sessions.generateId() : fromCookie
    const session = new Session(sessions, id, loaded)
    return {
      session,
      async commit() {
        const outcome = await session.commit()
        if (outcome === 'cleared') return `${name}=; Max-Age=0; ${attributes}`
        if (outcome === 'renewed') return `${name}=${session.id}; Max-Age=${maxAge}; ${attributes}`
        return undefined
      },
    }
  }
}

class Session implements RequestSession {
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
