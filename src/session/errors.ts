import { CacheError } from '../errors.js'

/**
 * `createSessions` got no secret, or one too short to key the hash that hides session ids in the
 * store: pass `secret` (at least 32 characters, from the app's configuration, never from code).
 */
export class SessionSecretError extends CacheError {
  static override readonly code = 'E_SESSION_SECRET'
}

/**
 * The cache given to `createSessions` is built on a store sessions cannot run on atomically: use a
 * cachekit memory store (one process) or the cachekit Redis store (many).
 */
export class SessionStoreUnsupportedError extends CacheError {
  static override readonly code = 'E_SESSION_STORE_UNSUPPORTED'
}
