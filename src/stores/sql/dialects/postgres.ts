import type { Dialect, Plan, Row, Tables } from '../dialect.js'
import type { Statement } from '../driver.js'
import { globToLike } from '../pattern.js'

const LIVE = (now: string, alias = '') => `(${alias}expires_at IS NULL OR ${alias}expires_at > ${now})`
const SAFE = '9007199254740991'

/** `$1, $2, ...` from `start`. */
function numbered(count: number, start = 1): string {
  return Array.from({ length: count }, (_, i) => `$${start + i}`).join(', ')
}

/**
 * PostgreSQL (the `pg` client). Keys are `text COLLATE "C"`, so LIKE on a prefix uses the primary
 * key and order is byte order; values are `bytea`; expiry is epoch ms in a `bigint`.
 */
export function postgresDialect(names: Tables): Dialect {
  const t = `"${names.entries}"`
  const g = `"${names.tags}"`
  return {
    name: 'postgres',
    maxBatch: 1000,

    migrate(options): Plan {
      const unlogged = options.unlogged ? 'UNLOGGED ' : ''
      return {
        transaction: true,
        statements: [
          // Concurrent CREATE TABLE IF NOT EXISTS can fail on pg_type's unique index: serialize.
          { sql: `SELECT pg_advisory_xact_lock(hashtext($1))`, params: [`cachekit:${names.entries}`] },
          {
            sql: `CREATE ${unlogged}TABLE IF NOT EXISTS ${t} (
  cache_key text COLLATE "C" NOT NULL PRIMARY KEY,
  cache_value bytea NOT NULL,
  expires_at bigint,
  tag_version bigint
)`,
            params: [],
          },
          { sql: `CREATE INDEX IF NOT EXISTS "${names.expiresIndex}" ON ${t} (expires_at)`, params: [] },
          {
            sql: `CREATE ${unlogged}TABLE IF NOT EXISTS ${g} (
  tag text COLLATE "C" NOT NULL,
  cache_key text COLLATE "C" NOT NULL,
  tag_version bigint NOT NULL,
  PRIMARY KEY (tag, cache_key)
)`,
            params: [],
          },
        ],
      }
    },

    get: (key, now) => ({
      sql: `SELECT cache_value, expires_at FROM ${t} WHERE cache_key = $1 AND ${LIVE('$2')}`,
      params: [key, now],
    }),

    expiry: (key, now) => ({
      sql: `SELECT expires_at FROM ${t} WHERE cache_key = $1 AND ${LIVE('$2')}`,
      params: [key, now],
    }),

    getMany: (keys, now) => ({
      sql: `SELECT cache_key, cache_value FROM ${t} WHERE cache_key = ANY($1::text[]) AND ${LIVE('$2')}`,
      params: [keys, now],
    }),

    set(rows): Statement {
      const values = rows.map((_, i) => `(${numbered(4, i * 4 + 1)})`).join(', ')
      return {
        sql: `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES ${values}
ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,
  expires_at = excluded.expires_at, tag_version = excluded.tag_version`,
        params: rows.flatMap((row) => [row.key, row.value, row.expiresAt, row.tagVersion]),
      }
    },

    add: (row: Row, now): Plan => ({
      transaction: false,
      statements: [
        {
          sql: `INSERT INTO ${t} AS c (cache_key, cache_value, expires_at, tag_version) VALUES ($1, $2, $3, $4)
ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,
  expires_at = excluded.expires_at, tag_version = excluded.tag_version
WHERE c.expires_at IS NOT NULL AND c.expires_at <= $5`,
          params: [row.key, row.value, row.expiresAt, row.tagVersion, now],
        },
      ],
    }),

    tag: (keys, version, tags) => ({
      sql: `INSERT INTO ${g} (tag, cache_key, tag_version)
SELECT x.tag, c.cache_key, c.tag_version FROM ${t} c CROSS JOIN unnest($1::text[]) AS x(tag)
WHERE c.cache_key = ANY($2::text[]) AND c.tag_version = $3
ON CONFLICT (tag, cache_key) DO UPDATE SET tag_version = excluded.tag_version`,
      params: [tags, keys, version],
    }),

    incr(created, delta, now): Plan {
      const expired = `(c.expires_at IS NOT NULL AND c.expires_at <= $4)`
      const text = `encode(c.cache_value, 'escape')`
      // CASE fixes the order of evaluation: the cast runs only on text that is an integer.
      const sum = `(CASE WHEN octet_length(c.cache_value) <= 17 AND ${text} ~ '^-?(0|[1-9][0-9]{0,15})$'
  THEN ${text}::bigint + $5::bigint END)`
      return {
        transaction: false,
        statements: [
          {
            sql: `INSERT INTO ${t} AS c (cache_key, cache_value, expires_at, tag_version) VALUES ($1, $2, $3, NULL)
ON CONFLICT (cache_key) DO UPDATE SET
  cache_value = CASE WHEN ${expired} THEN excluded.cache_value ELSE convert_to(${sum}::text, 'UTF8') END,
  expires_at = CASE WHEN ${expired} THEN excluded.expires_at ELSE c.expires_at END,
  tag_version = CASE WHEN ${expired} THEN NULL ELSE c.tag_version END
WHERE ${expired} OR abs(${sum}) <= ${SAFE}
RETURNING cache_value`,
            params: [created.key, created.value, created.expiresAt, now, delta],
          },
        ],
      }
    },

    touch: (key, expiresAt, now) => ({
      sql: `UPDATE ${t} SET expires_at = $2 WHERE cache_key = $1 AND ${LIVE('$3')}`,
      params: [key, expiresAt, now],
    }),

    delete: (keys, now) => ({
      sql: `DELETE FROM ${t} WHERE cache_key = ANY($1::text[]) AND ${LIVE('$2')}`,
      params: [keys, now],
    }),

    keys: (match, after, now, limit) => ({
      sql: `SELECT cache_key FROM ${t} WHERE cache_key LIKE $1 ESCAPE '!' AND cache_key > $2 AND ${LIVE('$3')}
ORDER BY cache_key LIMIT $4`,
      params: [match, after, now, limit],
    }),

    match: globToLike,

    deleteByTag: (tag, now): Plan => ({
      transaction: true,
      statements: [
        {
          sql: `DELETE FROM ${t} c USING ${g} x
WHERE x.tag = $1 AND c.cache_key = x.cache_key AND c.tag_version = x.tag_version AND ${LIVE('$2', 'c.')}`,
          params: [tag, now],
        },
        {
          sql: `DELETE FROM ${g} x WHERE x.tag = $1 AND NOT EXISTS (
  SELECT 1 FROM ${t} c WHERE c.cache_key = x.cache_key AND c.tag_version = x.tag_version)`,
          params: [tag],
        },
      ],
    }),

    tagged: (tag, now) => ({
      sql: `SELECT c.cache_key, c.cache_value, c.tag_version FROM ${t} c JOIN ${g} x
ON x.cache_key = c.cache_key AND x.tag_version = c.tag_version WHERE x.tag = $1 AND ${LIVE('$2', 'c.')}`,
      params: [tag, now],
    }),

    replaceValue: (key, version, value) => ({
      sql: `UPDATE ${t} SET cache_value = $1 WHERE cache_key = $2 AND tag_version = $3`,
      params: [value, key, version],
    }),

    deleteVersion: (key, version) => ({
      sql: `DELETE FROM ${t} WHERE cache_key = $1 AND tag_version = $2`,
      params: [key, version],
    }),

    count: () => ({ sql: `SELECT count(*) AS n FROM ${t}`, params: [] }),

    deleteExpired: (now, limit) => ({
      sql: `DELETE FROM ${t} WHERE cache_key IN (
  SELECT cache_key FROM ${t} WHERE expires_at <= $1 LIMIT $2)`,
      params: [now, limit],
    }),

    cull: (limit) => ({
      sql: `DELETE FROM ${t} WHERE cache_key IN (
  SELECT cache_key FROM ${t} ORDER BY expires_at ASC NULLS LAST, cache_key LIMIT $1)`,
      params: [limit],
    }),

    deleteStaleTags: () => ({
      sql: `DELETE FROM ${g} x WHERE NOT EXISTS (
  SELECT 1 FROM ${t} c WHERE c.cache_key = x.cache_key AND c.tag_version = x.tag_version)`,
      params: [],
    }),
  }
}
