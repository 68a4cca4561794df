import { CacheError, StoreUnavailableError } from '../../errors.js'
import { scrubber } from '../../internal/index.js'

/** A call that got no answer within the store's `timeout`. */
export class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
    this.name = 'DeadlineError'
  }
}

/** Node and client-library codes that mean the server cannot be reached or will not serve us. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'POOL_CLOSED',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  // PostgreSQL SQLSTATEs: too many connections, shutting down, starting up, statement timeout,
  // missing database, lock timeout.
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '3D000',
  '55P03',
  // SQLite: another process holds the lock too long, the file cannot be opened or written.
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT',
])

/** Messages of client errors that carry no code (pg's pool and connection). */
const UNAVAILABLE_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|not queryable|connection error|cannot use a pool after calling end|connect (ECONNREFUSED|ETIMEDOUT)|socket hang up|server closed the connection/i

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * True when the store's table is gone (a database restarted empty, or dropped by hand): with
 * `autoMigrate` the store creates it again and retries, rather than failing every call.
 */
export function isMissingTable(error: unknown): boolean {
  const code = codeOf(error)
  if (code === '42P01' || code === 'ER_NO_SUCH_TABLE') return true
  const errno = (error as { errno?: unknown } | null)?.errno
  if (errno === 1146) return true
  const sqlite = code?.startsWith('SQLITE_ERROR') === true
  return sqlite && error instanceof Error && /no such table/i.test(error.message)
}

/** True when the error says the database could not be reached or used, not that a query was wrong. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DeadlineError) return true
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true
  const code = codeOf(error)
  if (code !== undefined) {
    // SQLSTATE classes 08 (connection exception) and 28 (invalid authorization).
    if (/^(08|28)[0-9A-Z]{3}$/.test(code)) return true
    if (code.startsWith('SQLITE_IOERR')) return true
    if (UNAVAILABLE_CODES.has(code)) return true
  }
  return error instanceof Error && UNAVAILABLE_MESSAGE.test(error.message)
}

/** Deadlocks and serialization failures: the statement did nothing and may simply be retried. */
export function isRetryable(error: unknown): boolean {
  const code = codeOf(error)
  const errno = (error as { errno?: unknown } | null)?.errno
  return code === '40001' || code === '40P01' || code === 'ER_LOCK_DEADLOCK' || errno === 1213
}

/**
 * The error a store call rejects with: cachekit's own errors as they are, unavailability as
 * {@link StoreUnavailableError}, anything else as a {@link CacheError}; the original in `cause`.
 * Messages and the cause's message are scrubbed of `secrets` (passwords).
 */
export function toStoreError(error: unknown, dialect: string, secrets: readonly string[]): Error {
  if (error instanceof CacheError) return error
  const scrub = scrubber(secrets)
  const reason = scrub(describeError(error))
  if (error instanceof Error) error.message = scrub(error.message)
  if (isUnavailable(error)) {
    return new StoreUnavailableError(`The ${dialect} database is unavailable: ${reason}`, { cause: error })
  }
  return new CacheError(`The ${dialect} store's query failed: ${reason}`, { cause: error })
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ')
  }
  if (error instanceof Error) {
    const code = codeOf(error)
    const message = error.message || error.name
    return code !== undefined && !message.includes(code) ? `${message} (${code})` : message
  }
  return String(error)
}
