import { type Dialect, marks } from '../dialect.js'

/** Live rows only: `?` is "now". */
export const LIVE = (alias = '') => `(${alias}expires_at IS NULL OR ${alias}expires_at > ?)`

/**
 * The statements MySQL/MariaDB and SQLite write the same way (`?` placeholders, standard SQL).
 * PostgreSQL has its own, binding key lists as one array.
 */
export function questionMarkStatements(t: string): Pick<Dialect, 'get' | 'expiry' | 'getMany' | 'delete'> {
  return {
    get: (key, now) => ({
      sql: `SELECT cache_value, expires_at FROM ${t} WHERE cache_key = ? AND ${LIVE()}`,
      params: [key, now],
    }),

    expiry: (key, now) => ({
      sql: `SELECT expires_at FROM ${t} WHERE cache_key = ? AND ${LIVE()}`,
      params: [key, now],
    }),

    getMany: (keys, now) => ({
      sql: `SELECT cache_key, cache_value FROM ${t} WHERE cache_key IN (${marks(keys.length)}) AND ${LIVE()}`,
      params: [...keys, now],
    }),

    delete: (keys, now) => ({
      sql: `DELETE FROM ${t} WHERE cache_key IN (${marks(keys.length)}) AND ${LIVE()}`,
      params: [...keys, now],
    }),
  }
}
