import { type Dialect, marks, type Plan, type Tables } from '../dialect.js'
import type { Statement } from '../driver.js'
import { globToSqliteGlob } from '../pattern.js'
import { LIVE, questionMarkStatements } from './question-marks.js'

const SAFE = '9007199254740991'

/**
 * SQLite (the `better-sqlite3` client). Keys are `TEXT` (binary collation, so GLOB on a prefix uses
 * the primary key); values are `BLOB`; expiry is epoch ms in an `INTEGER`. Numbers are cast to
 * INTEGER where arithmetic needs it, since better-sqlite3 binds JavaScript numbers as REAL.
 */
export function sqliteDialect(names: Tables): Dialect {
  const t = `"${names.entries}"`
  const g = `"${names.tags}"`
  return {
    name: 'sqlite',
    ...questionMarkStatements(t, g),
    // SQLite allows 32,766 parameters per statement; 4 per row leaves room.
    maxBatch: 1000,

    migrate: (): Plan => ({
      transaction: true,
      statements: [
        {
          sql: `CREATE TABLE IF NOT EXISTS ${t} (
  cache_key TEXT NOT NULL PRIMARY KEY,
  cache_value BLOB NOT NULL,
  expires_at INTEGER,
  tag_version INTEGER
)`,
          params: [],
        },
        { sql: `CREATE INDEX IF NOT EXISTS "${names.expiresIndex}" ON ${t} (expires_at)`, params: [] },
        {
          sql: `CREATE TABLE IF NOT EXISTS ${g} (
  tag TEXT NOT NULL,
  cache_key TEXT NOT NULL,
  tag_version INTEGER NOT NULL,
  PRIMARY KEY (tag, cache_key)
) WITHOUT ROWID`,
          params: [],
        },
      ],
    }),

    set(rows): Statement {
      const values = rows.map(() => '(?, ?, ?, ?)').join(', ')
      return {
        sql: `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES ${values}
ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,
  expires_at = excluded.expires_at, tag_version = excluded.tag_version`,
        params: rows.flatMap((row) => [row.key, row.value, row.expiresAt, row.tagVersion]),
      }
    },

    add: (row, now): Plan => ({
      transaction: false,
      statements: [
        {
          sql: `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES (?, ?, ?, ?)
ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,
  expires_at = excluded.expires_at, tag_version = excluded.tag_version
WHERE expires_at IS NOT NULL AND expires_at <= ?`,
          params: [row.key, row.value, row.expiresAt, row.tagVersion, now],
        },
      ],
    }),

    tag: (keys, version, tags) => ({
      // INSERT ... SELECT needs its WHERE for SQLite to parse the upsert clause after it.
      sql: `INSERT INTO ${g} (tag, cache_key, tag_version)
SELECT x.tag, c.cache_key, c.tag_version
FROM ${t} c, (${tags.map(() => 'SELECT ? AS tag').join(' UNION ALL ')}) x
WHERE c.cache_key IN (${marks(keys.length)}) AND c.tag_version = ?
ON CONFLICT (tag, cache_key) DO UPDATE SET tag_version = excluded.tag_version`,
      params: [...tags, ...keys, version],
    }),

    incr(created, delta, now): Plan {
      const expired = `(expires_at IS NOT NULL AND expires_at <= ?)`
      const text = `CAST(cache_value AS TEXT)`
      const number = `CAST(${text} AS INTEGER)`
      // An integer entry is exactly the canonical text of its own value: '42', not '042' or 'x'.
      const integer = `(length(cache_value) <= 17 AND ${text} = CAST(${number} AS TEXT))`
      return {
        transaction: false,
        statements: [
          {
            sql: `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES (?, ?, ?, NULL)
ON CONFLICT (cache_key) DO UPDATE SET
  cache_value = CASE WHEN ${expired} THEN excluded.cache_value
    ELSE CAST(CAST(${number} + CAST(? AS INTEGER) AS TEXT) AS BLOB) END,
  expires_at = CASE WHEN ${expired} THEN excluded.expires_at ELSE expires_at END,
  tag_version = CASE WHEN ${expired} THEN NULL ELSE tag_version END
WHERE ${expired} OR (${integer} AND abs(${number} + CAST(? AS INTEGER)) <= ${SAFE})
RETURNING cache_value`,
            params: [created.key, created.value, created.expiresAt, now, delta, now, now, now, delta],
          },
        ],
      }
    },

    touch: (key, expiresAt, now) => ({
      sql: `UPDATE ${t} SET expires_at = ? WHERE cache_key = ? AND ${LIVE()}`,
      params: [expiresAt, key, now],
    }),

    keys: (match, after, now, limit) => ({
      sql: `SELECT cache_key FROM ${t} WHERE cache_key GLOB ? AND cache_key > ? AND ${LIVE()}
ORDER BY cache_key LIMIT ?`,
      params: [match, after, now, limit],
    }),

    match: globToSqliteGlob,

    deleteByTag: (tag, now): Plan => ({
      transaction: true,
      statements: [
        {
          sql: `DELETE FROM ${t} WHERE cache_key IN (SELECT cache_key FROM ${g} WHERE tag = ?)
AND tag_version = (SELECT x.tag_version FROM ${g} x WHERE x.tag = ? AND x.cache_key = ${t}.cache_key)
AND ${LIVE()}`,
          params: [tag, tag, now],
        },
        {
          sql: `DELETE FROM ${g} WHERE tag = ? AND NOT EXISTS (
  SELECT 1 FROM ${t} c WHERE c.cache_key = ${g}.cache_key AND c.tag_version = ${g}.tag_version)`,
          params: [tag],
        },
      ],
    }),

    count: () => ({ sql: `SELECT count(*) AS n FROM ${t}`, params: [] }),

    deleteExpired: (now, limit) => ({
      sql: `DELETE FROM ${t} WHERE cache_key IN (
  SELECT cache_key FROM ${t} WHERE expires_at <= ? LIMIT ?)`,
      params: [now, limit],
    }),

    cull: (limit) => ({
      sql: `DELETE FROM ${t} WHERE cache_key IN (
  SELECT cache_key FROM ${t} ORDER BY expires_at IS NULL, expires_at, cache_key LIMIT ?)`,
      params: [limit],
    }),

    deleteStaleTags: () => ({
      sql: `DELETE FROM ${g} WHERE NOT EXISTS (
  SELECT 1 FROM ${t} c WHERE c.cache_key = ${g}.cache_key AND c.tag_version = ${g}.tag_version)`,
      params: [],
    }),
  }
}
