import type { Statement } from './driver.js'

/** The databases cachekit speaks to. MariaDB is `'mysql'`. */
export type SqlDialectName = 'postgres' | 'sqlite' | 'mysql'

/** One entry as written: the key, the encoded value, its expiry and the version its tags carry. */
export interface Row {
  readonly key: string
  readonly value: Buffer
  /** Epoch milliseconds, `null` = never. */
  readonly expiresAt: number | null
  /** Random per tagged write; tag rows count only while they carry the entry's version. */
  readonly tagVersion: number | null
}

/**
 * The longest key and tag, in UTF-8 bytes, in every dialect: together they fit InnoDB's 3072-byte
 * index limit and PostgreSQL's ~2700-byte B-tree entry limit.
 */
export const MAX_KEY_BYTES = 1536
/** The longest tag a SQL store accepts, in UTF-8 bytes. */
export const MAX_TAG_BYTES = 1024

/** A plan of several statements and whether they must share one transaction. */
export interface Plan {
  readonly statements: readonly Statement[]
  readonly transaction: boolean
}

/** Names of the two tables, and of the expiry index. */
export interface Tables {
  readonly entries: string
  readonly tags: string
  readonly expiresIndex: string
}

/** Options the DDL may use. */
export interface SchemaOptions {
  /** PostgreSQL: `CREATE UNLOGGED TABLE` (fast writes, emptied after a crash). */
  readonly unlogged?: boolean
}

/**
 * The SQL text of one database. Every method returns statements; the engine runs them and reads
 * the columns named below, so the dialects are SQL only and the engine has none.
 *
 * Result columns: `cache_key`, `cache_value`, `expires_at`, `n`. "Live" means not expired at `now`
 * (epoch ms): `expires_at IS NULL OR expires_at > now`.
 */
export interface Dialect {
  readonly name: SqlDialectName
  /** Creates both tables and the indexes if they do not exist; safe to run concurrently. */
  migrate(options: SchemaOptions): Plan
  /** `cache_value`, `expires_at` of the key if live. */
  get(key: string, now: number): Statement
  /** `expires_at` of the key if live (ttl, has). */
  expiry(key: string, now: number): Statement
  /** `cache_key`, `cache_value` of the live keys among `keys` (at most {@link Dialect.maxBatch}). */
  getMany(keys: readonly string[], now: number): Statement
  /** Upserts the rows (at most {@link Dialect.maxBatch}, keys distinct). */
  set(rows: readonly Row[]): Statement
  /** Inserts the row only if the key is absent or expired; the last statement's `affected` is 1 when it wrote. */
  add(row: Row, now: number): Plan
  /**
   * Links `tags` to each of `keys` whose entry carries `version` (so a write that lost a race is
   * never linked). Runs in the writing transaction, after the write.
   */
  tag(keys: readonly string[], version: number, tags: readonly string[]): Statement
  /**
   * Adds `delta` to a live integer entry, keeping its expiry and tags, or writes `created` when
   * the key is absent or expired. The last statement returns `cache_value` when it wrote: no row
   * means the entry is not an integer (or the sum leaves the safe range), and nothing changed.
   */
  incr(created: Row, delta: number, now: number): Plan
  /** Sets a live entry's expiry; `affected` is 1 when it was live. */
  touch(key: string, expiresAt: number | null, now: number): Statement
  /** Deletes the live entries among `keys`; `affected` counts them. */
  delete(keys: readonly string[], now: number): Statement
  /** Up to `limit` live `cache_key`s matching the prefilter, after `after`, in key order. */
  keys(match: string, after: string, now: number, limit: number): Statement
  /** The prefilter parameter for a Redis glob (LIKE or GLOB, as {@link Dialect.keys} uses it). */
  match(glob: string): string
  /** Deletes the live entries tagged `tag` (first statement's `affected`), then the tag's stale links. */
  deleteByTag(tag: string, now: number): Plan
  /** Live entries still carrying `tag`: `cache_key`, `cache_value`, `tag_version`. */
  tagged(tag: string, now: number): Statement
  /** Replaces an entry's value if it still has `version` (expiry and tags kept). */
  replaceValue(key: string, version: unknown, value: Buffer): Statement
  /** Deletes an entry if it still has `version`. */
  deleteVersion(key: string, version: unknown): Statement
  /** `n`: the number of rows, live or not. */
  count(): Statement
  /** Deletes up to `limit` expired rows. */
  deleteExpired(now: number, limit: number): Statement
  /** Deletes `limit` rows, those expiring soonest first and never-expiring ones last. */
  cull(limit: number): Statement
  /** Deletes tag links whose entry is gone or was rewritten. */
  deleteStaleTags(): Statement
  /** The most keys or rows one statement takes. */
  readonly maxBatch: number
}

/** Checks a table name and derives the others; names are only ever interpolated after this. */
export function tableNames(table: string): Tables {
  return { entries: table, tags: `${table}_tags`, expiresIndex: `${table}_expires_idx` }
}

/** `?, ?, ?` for `count` parameters. */
export function marks(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ')
}
