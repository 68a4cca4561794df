export { type ExpressSessionOptions, expressSession, expressSessionStore } from '../http/express/internal.js'
export { type FastifySessionStore, fastifySessionStore, SNAPSHOT_FIELD } from '../http/fastify/internal.js'
export { type HonoSession, type HonoSessionOptions, honoSession } from '../http/hono/internal.js'
export { SessionSecretError, SessionStoreUnsupportedError } from './errors.js'
export type { RequestSession, SessionCookieOptions, SessionMiddlewareOptions } from './request.js'
export {
  createSessions,
  type LoadedSession,
  type SaveOutcome,
  type SessionData,
  type SessionSnapshot,
  Sessions,
  type SessionsOptions,
  type UserSession,
} from './sessions.js'
