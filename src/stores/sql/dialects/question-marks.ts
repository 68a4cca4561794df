import { type Dialect, marks } from '../dialect.js'

/** Live rows only: `?` is "now". */
export const LIVE = (alias = '') => `(${alias}expires_at IS NULL OR ${alias}expires_at > ?)`

/**
 * The statements MySQL/MariaDB and SQLite write the same way (`?` placeholders, standard SQL).
 * PostgreSQL has its own, binding key lists as one array.
 */
export function questionMarkStatements(
  t: string,
  g: string,
): Pick<Dialect, 'get' | 'expiry' | 'getMany' | 'delete' | 'tagged' | 'replaceValue' | 'deleteVersion'> {
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

    tagged: (tag, now) => ({
      sql: `SELECT c.cache_key, c.cache_value, c.tag_version FROM ${t} c JOIN ${g} x
ON x.cache_key = c.cache_key AND x.tag_version = c.tag_version WHERE x.tag = ? AND ${LIVE('c.')}`,
      params: [tag, now],
    }),

    replaceValue: (key, version, value) => ({
      sql: `UPDATE ${t} SET cache_value = ? WHERE cache_key = ? AND tag_version = ?`,
      params: [value, key, version],
    }),

    deleteVersion: (key, version) => ({
      sql: `DELETE FROM ${t} WHERE cache_key = ? AND tag_version = ?`,
      params: [key, version],
    }),
  }
}
