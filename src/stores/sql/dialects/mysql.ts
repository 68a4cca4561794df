import { type Dialect, MAX_KEY_BYTES, MAX_TAG_BYTES, marks, type Plan, type Tables } from '../dialect.js'
import type { Statement } from '../driver.js'
import { globToLike } from '../pattern.js'
import { LIVE, questionMarkStatements } from './question-marks.js'

/**
 * MySQL 8 and MariaDB 10.5+ (the `mysql2` client). Keys are `VARBINARY`, so comparison and LIKE are
 * case- and accent-sensitive and order is byte order; values are `LONGBLOB`; expiry is epoch ms in
 * a `BIGINT`. MySQL has no `RETURNING` and evaluates `ON DUPLICATE KEY UPDATE` assignments left
 * to right, each seeing the ones before: the order of those assignments below matters.
 */
export function mysqlDialect(names: Tables): Dialect {
  const t = `\`${names.entries}\``
  const g = `\`${names.tags}\``
  const expired = '(expires_at IS NOT NULL AND expires_at <= ?)'
  // latin1 takes any byte, so reading a binary value as text never warns (strict mode would fail).
  const text = 'CAST(cache_value AS CHAR CHARACTER SET latin1)'
  return {
    name: 'mysql',
    ...questionMarkStatements(t, g),
    maxBatch: 1000,

    // MySQL commits DDL implicitly; CREATE TABLE IF NOT EXISTS is safe to race on its own.
    migrate: (): Plan => ({
      transaction: false,
      statements: [
        {
          sql: `CREATE TABLE IF NOT EXISTS ${t} (
  cache_key VARBINARY(${MAX_KEY_BYTES}) NOT NULL PRIMARY KEY,
  cache_value LONGBLOB NOT NULL,
  expires_at BIGINT NULL,
  tag_version BIGINT NULL,
  INDEX \`${names.expiresIndex}\` (expires_at)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`,
          params: [],
        },
        {
          sql: `CREATE TABLE IF NOT EXISTS ${g} (
  tag VARBINARY(${MAX_TAG_BYTES}) NOT NULL,
  cache_key VARBINARY(${MAX_KEY_BYTES}) NOT NULL,
  tag_version BIGINT NOT NULL,
  PRIMARY KEY (tag, cache_key)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`,
          params: [],
        },
      ],
    }),

    set(rows): Statement {
      return {
        sql: `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version)
VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
ON DUPLICATE KEY UPDATE cache_value = VALUES(cache_value), expires_at = VALUES(expires_at),
  tag_version = VALUES(tag_version)`,
        params: rows.flatMap((row) => [row.key, row.value, row.expiresAt, row.tagVersion]),
      }
    },

    // Removing an expired row, then INSERT IGNORE, is atomic where it matters: only one inserter
    // can win, and a live row is never removed. (ON DUPLICATE KEY UPDATE cannot say whether it
    // wrote: its affected-rows count depends on the client's FOUND_ROWS flag.)
    add: (row, now): Plan => ({
      transaction: false,
      statements: [
        { sql: `DELETE FROM ${t} WHERE cache_key = ? AND ${expired}`, params: [row.key, now] },
        {
          sql: `INSERT IGNORE INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES (?, ?, ?, ?)`,
          params: [row.key, row.value, row.expiresAt, row.tagVersion],
        },
      ],
    }),

    tag: (keys, version, tags) => ({
      sql: `INSERT INTO ${g} (tag, cache_key, tag_version)
SELECT x.tag, c.cache_key, c.tag_version
FROM ${t} c JOIN (${tags.map(() => 'SELECT CAST(? AS BINARY) AS tag').join(' UNION ALL ')}) x
WHERE c.cache_key IN (${marks(keys.length)}) AND c.tag_version = ?
ON DUPLICATE KEY UPDATE tag_version = VALUES(tag_version)`,
      params: [...tags, ...keys, version],
    }),

    // No RETURNING: the upsert, then a read of the row it locked, in one transaction. The engine
    // rolls back when the value read is not a safe integer (the upsert leaves a non-integer as is).
    incr: (created, delta, now): Plan => ({
      transaction: true,
      statements: [
        {
          sql: `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES (?, ?, ?, NULL)
ON DUPLICATE KEY UPDATE
  tag_version = IF(${expired}, NULL, tag_version),
  cache_value = IF(${expired}, VALUES(cache_value),
    IF(LENGTH(cache_value) <= 17 AND ${text} REGEXP '^-?(0|[1-9][0-9]{0,15})$',
      CAST(CAST(${text} AS SIGNED) + ? AS BINARY), cache_value)),
  expires_at = IF(${expired}, VALUES(expires_at), expires_at)`,
          params: [created.key, created.value, created.expiresAt, now, now, delta, now],
        },
        { sql: `SELECT cache_value FROM ${t} WHERE cache_key = ?`, params: [created.key] },
      ],
    }),

    touch: (key, expiresAt, now) => ({
      sql: `UPDATE ${t} SET expires_at = ? WHERE cache_key = ? AND ${LIVE()}`,
      params: [expiresAt, key, now],
    }),

    keys: (match, after, now, limit) => ({
      sql: `SELECT cache_key FROM ${t} WHERE cache_key LIKE ? ESCAPE '!' AND cache_key > ? AND ${LIVE()}
ORDER BY cache_key LIMIT ?`,
      params: [match, after, now, limit],
    }),

    match: globToLike,

    deleteByTag: (tag, now): Plan => ({
      transaction: true,
      statements: [
        {
          sql: `DELETE c FROM ${t} c JOIN ${g} x ON x.cache_key = c.cache_key AND x.tag_version = c.tag_version
WHERE x.tag = ? AND ${LIVE('c.')}`,
          params: [tag, now],
        },
        {
          sql: `DELETE x FROM ${g} x LEFT JOIN ${t} c ON c.cache_key = x.cache_key AND c.tag_version = x.tag_version
WHERE x.tag = ? AND c.cache_key IS NULL`,
          params: [tag],
        },
      ],
    }),

    count: () => ({ sql: `SELECT COUNT(*) AS n FROM ${t}`, params: [] }),

    deleteExpired: (now, limit) => ({
      sql: `DELETE FROM ${t} WHERE expires_at <= ? LIMIT ?`,
      params: [now, limit],
    }),

    cull: (limit) => ({
      sql: `DELETE FROM ${t} ORDER BY expires_at IS NULL, expires_at, cache_key LIMIT ?`,
      params: [limit],
    }),

    deleteStaleTags: () => ({
      sql: `DELETE x FROM ${g} x LEFT JOIN ${t} c ON c.cache_key = x.cache_key AND c.tag_version = x.tag_version
WHERE c.cache_key IS NULL`,
      params: [],
    }),
  }
}
