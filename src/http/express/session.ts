import { createRequire } from 'node:module'
import type { Request } from 'express'
import type * as ExpressSession from 'express-session'
import { InvalidOptionError } from '../../errors.js'
import type { SessionData, SessionSnapshot, Sessions } from '../../session/index.js'

type Callback = (error?: unknown) => void
type StoreClass = typeof ExpressSession.Store

let built: (new (sessions: Sessions) => ExpressSession.Store) | undefined

/**
 * An `express-session` store over the session core: `session({ store: expressSessionStore(sessions),
 * secret, resave: false, saveUninitialized: false })`. Saves merge the fields a request changed
 * (concurrent requests never lose each other's fields), `touch` is throttled, a destroyed session
 * never comes back, and `req.session.regenerate()` works as usual. `all()` lists sessions by their
 * hashed handle: the store never holds ids. Needs the `express-session` package.
 */
export function expressSessionStore(sessions: Sessions): ExpressSession.Store {
  built ??= buildStore(loadStoreClass())
  return new built(sessions)
}

/** express-session checks that a store is its `Store` (an EventEmitter with `createSession`), so we extend it. */
function loadStoreClass(): StoreClass {
  try {
    return (createRequire(import.meta.url)('express-session') as { Store: StoreClass }).Store
  } catch (error) {
    throw new InvalidOptionError(
      'expressSessionStore needs the "express-session" package: npm install express-session',
      {
        cause: error,
      },
    )
  }
}

function buildStore(Base: StoreClass): new (sessions: Sessions) => ExpressSession.Store {
  return class CachekitSessionStore extends Base {
    readonly #sessions: Sessions
    /** Data handed to express-session by `get`, until `createSession` wraps it. */
    readonly #loaded = new WeakMap<object, SessionSnapshot>()
    /** Each request's session object → what that request read: the base of its merge. */
    readonly #snapshots = new WeakMap<object, SessionSnapshot>()

    constructor(sessions: Sessions) {
      super()
      this.#sessions = sessions
    }

    override createSession(req: Request, data: ExpressSession.SessionData) {
      const snapshot = this.#loaded.get(data)
      const session = super.createSession(req, data)
      if (snapshot !== undefined) this.#snapshots.set(session, snapshot)
      return session
    }

    get(sid: string, callback: (error: unknown, session?: ExpressSession.SessionData | null) => void): void {
      this.#sessions.load(sid).then((found) => {
        if (found === undefined) return callback(null, null)
        this.#loaded.set(found.data, found.snapshot)
        callback(null, found.data as unknown as ExpressSession.SessionData)
      }, callback)
    }

    set(sid: string, session: ExpressSession.SessionData, callback?: Callback): void {
      const snapshot = this.#snapshots.get(session)
      done(this.#sessions.save(sid, plain(session), snapshot), callback)
    }

    override touch(sid: string, session: ExpressSession.SessionData, callback?: () => void): void {
      const snapshot = this.#snapshots.get(session)
      if (snapshot === undefined) this.set(sid, session, callback)
      else done(this.#sessions.touch(sid, snapshot, { cookie: session.cookie }), callback)
    }

    destroy(sid: string, callback?: Callback): void {
      done(this.#sessions.destroy(sid), callback)
    }

    override all(
      callback: (error: unknown, sessions?: { [handle: string]: ExpressSession.SessionData } | null) => void,
    ): void {
      const out: { [handle: string]: ExpressSession.SessionData } = {}
      ;(async () => {
        for await (const { handle, data } of this.#sessions.all()) {
          out[handle] = data as unknown as ExpressSession.SessionData
        }
      })().then(() => callback(null, out), callback)
    }

    override length(callback: (error: unknown, length?: number) => void): void {
      this.#sessions.count().then((n) => callback(null, n), callback)
    }

    override clear(callback?: Callback): void {
      done(this.#sessions.clear(), callback)
    }
  }
}

function plain(session: ExpressSession.SessionData): SessionData {
  return { ...(session as unknown as SessionData) }
}

function done(work: Promise<unknown>, callback: Callback | undefined): void {
  work.then(
    () => callback?.(),
    (error: unknown) => callback?.(error),
  )
}
