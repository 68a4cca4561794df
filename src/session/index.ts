export { expressSessionStore } from '../http/express/session.js'
export { type FastifySessionStore, fastifySessionStore, SNAPSHOT_FIELD } from '../http/fastify/session.js'
export { type HonoSession, type HonoSessionOptions, honoSession } from '../http/hono/session.js'
export { SessionSecretError, SessionStoreUnsupportedError } from './errors.js'
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
