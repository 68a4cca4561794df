import type { SessionData, SessionSnapshot, Sessions } from '../../session/index.js'

/**
 * The field that carries what a request read from `get` to its `set`. @fastify/session copies a
 * loaded session's fields into the request's session and offers no other hook, so the snapshot
 * travels as one reserved field; it is never written to the store.
 */
export const SNAPSHOT_FIELD = '~cachekit'

type Callback = (error?: unknown) => void

/** The store interface of `@fastify/session`, plus the optional `all`, `length` and `clear`. */
export interface FastifySessionStore {
  /** The callback's `session` is typed `never` so that @fastify/session's own callback type fits it. */
  get(sessionId: string, callback: (error: unknown, session?: never) => void): void
  set(sessionId: string, session: object, callback: Callback): void
  destroy(sessionId: string, callback: Callback): void
  /** Every live session by its hashed handle (the store holds no ids). */
  all(callback: (error: unknown, sessions?: { [handle: string]: SessionData }) => void): void
  length(callback: (error: unknown, length?: number) => void): void
  clear(callback: Callback): void
}

/**
 * A `@fastify/session` store over the session core: `fastify.register(fastifySession, { store:
 * fastifySessionStore(sessions), secret })`. Saves merge the fields a request changed, a save with
 * only a new cookie expiry is a throttled touch (so `rolling: true` does not write every request),
 * a destroyed session never comes back, and `request.session.regenerate()` works as usual.
 */
export function fastifySessionStore(sessions: Sessions): FastifySessionStore {
  return {
    get(sessionId, callback) {
      sessions
        .load(sessionId)
        .then(
          (found) => callback(null, found && ({ ...found.data, [SNAPSHOT_FIELD]: found.snapshot } as never)),
          callback,
        )
    },
    set(sessionId, session, callback) {
      const data: SessionData = { ...(session as SessionData) }
      const snapshot = data[SNAPSHOT_FIELD] as SessionSnapshot | undefined
      delete data[SNAPSHOT_FIELD]
      done(sessions.save(sessionId, data, snapshot), callback)
    },
    destroy(sessionId, callback) {
      done(sessions.destroy(sessionId), callback)
    },
    all(callback) {
      const out: { [handle: string]: SessionData } = {}
      ;(async () => {
        for await (const { handle, data } of sessions.all()) out[handle] = data
      })().then(() => callback(null, out), callback)
    },
    length(callback) {
      sessions.count().then((n) => callback(null, n), callback)
    },
    clear(callback) {
      done(sessions.clear(), callback)
    },
  }
}

function done(work: Promise<unknown>, callback: Callback): void {
  work.then(
    () => callback(),
    (error: unknown) => callback(error),
  )
}
