/**
 * Scenario 8: the SQL stores (`cachekit/sql`), get and set per dialect: PostgreSQL and MariaDB on
 * this machine's servers (127.0.0.1, database `test`) and SQLite in a file in a temp directory.
 * cachekit's cache over `sqlStore` against the raw driver running the same statements on the same
 * table, the limit. Every run works in a table of its own (`ck_bench_<random>`) and drops it.
 */

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { findPostgresUrl } from '../test/support/sql-servers.js'
import { createCache } from './lib/cachekit.js'
import { sqlStore } from './lib/cachekit-sql.js'
import { generate, PREFIX, randomOrder, TTL, TTL_MS, windows } from './lib/data.js'
import { ops, percent, ratio, table } from './lib/format.js'
import {
  inFlight,
  type Measured,
  type MeasureOptions,
  measure,
  type OpTask,
  pairedRatio,
  roundsNote,
} from './lib/measure.js'
import { defineScenario, progress } from './lib/scenario.js'
import { version } from './lib/versions.js'

/** Keys per contender per dialect; every get is a hit (checked). */
const KEYS = 2_000
/** A 1,024-character ASCII string, as in the Redis scenario. */
const VALUE = Array.from({ length: 1024 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('')
const RAW_VALUE = Buffer.from(VALUE)
const SERIAL_BATCH = 20
const IN_FLIGHT = 16
const PARALLEL_BATCH = 200
/** Connections per pool, cachekit's default; the raw pools get the same. */
const POOL = 10

const FULL: MeasureOptions = { time: 200, warmupTime: 50, rounds: 5, iterations: 4 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1, iterations: 2 }

type Op = 'get1' | 'get16' | 'set1' | 'set16'
const OPS: readonly Op[] = ['get1', 'get16', 'set1', 'set16']
type DialectName = 'postgres' | 'mysql' | 'sqlite'

interface Contender {
  readonly name: string
  readonly keys: readonly string[]
  get(key: string): Promise<unknown>
  set(key: string, value: string): Promise<unknown>
  /** Whether a get's reply is the value written. */
  hit(reply: unknown): boolean
}

interface Dialect {
  readonly name: DialectName
  readonly label: string
  readonly server: string
  readonly note: string
  readonly cachekit: Contender
  readonly raw: Contender
  close(): Promise<void>
}

const LABELS: Record<DialectName, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MariaDB',
  sqlite: 'SQLite (file, WAL)',
}

export default defineScenario({
  title: '8. SQL stores: get / set per dialect, 1 KB values',
  async run({ quick }) {
    const table = `ck_bench_${randomBytes(5).toString('hex')}`
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cachekit-bench-sql-'))
    const dialects: Dialect[] = []
    const missing: string[] = []
    try {
      for (const open of [openPostgres, openMysql, openSqlite]) {
        try {
          dialects.push(await open(table, dir))
        } catch (error) {
          missing.push((error as Error).message)
          progress(`skipped: ${(error as Error).message}`)
        }
      }
      if (dialects.length === 0) throw new Error(`no SQL server reachable: ${missing.join('; ')}`)
      return await runOn(dialects, missing, table, quick)
    } finally {
      for (const d of dialects) await d.close().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    }
  },
})

async function runOn(
  dialects: readonly Dialect[],
  missing: readonly string[],
  tableName: string,
  quick: boolean,
) {
  const misses = { count: 0 }
  for (const d of dialects) {
    progress(`${d.label}: filling ${KEYS.toLocaleString('en-US')} keys per contender`)
    for (const c of [d.cachekit, d.raw]) {
      for (let at = 0; at < KEYS; at += 100) {
        await Promise.all(c.keys.slice(at, at + 100).map((key) => c.set(key, VALUE)))
      }
      for (const i of [0, 1234, KEYS - 1]) {
        if (!c.hit(await c.get(c.keys[i]!))) throw new Error(`${d.label} ${c.name}: no hit for ${c.keys[i]}`)
      }
    }
  }
  const tasks: OpTask[] = []
  for (const op of OPS) {
    for (const d of dialects) for (const c of [d.cachekit, d.raw]) tasks.push(task(d, c, op, misses))
  }
  const options = quick ? QUICK : FULL
  progress(`${tasks.length} tasks × ${options.rounds} rounds`)
  const results = await measure(tasks, options)
  if (misses.count !== 0) throw new Error(`${misses.count} gets missed; the figures would not be hits`)

  const at = (d: Dialect, c: Contender, op: Op): Measured => results.get(`${d.name} ${c.name} ${op}`)!
  const rows = dialects.flatMap((d) =>
    [d.cachekit, d.raw].map((c) => [
      `${d.label}: ${c.name}`,
      ...OPS.flatMap((op) => {
        const m = at(d, c, op)
        return [`${ops(m.opsPerSec)} ${percent(m.spread)}`, ratio(pairedRatio(at(d, d.cachekit, op), m))]
      }),
    ]),
  )
  const body = [
    `Per dialect, cachekit's cache over \`sqlStore\` and the raw driver, the limit, on one table created by the store's own migration (\`${tableName.replace(/_[0-9a-f]+$/, '_<random>')}\`, dropped afterwards), each contender with its own ${KEYS.toLocaleString('en-US')} keys written before timing, so every get is a hit (checked). Values: a 1,024-character string (cachekit stores it msgpack-encoded, 1,027 bytes; the raw driver its 1,024 bytes). Every set has a 1-hour TTL (cachekit's default TTL; the raw rows write the same expiry).`,
    `Keys are taken in a random order (a seeded shuffle made before timing, the same for every contender); cachekit has prefix \`${PREFIX}\` and a default TTL of \`${TTL}\`, the raw rows write the same expiry. "1 at a time": ${SERIAL_BATCH} awaited calls in a row per timed call. "${IN_FLIGHT} in flight": ${IN_FLIGHT} callers each awaiting its own calls, ${PARALLEL_BATCH} calls per timed call, over a pool of ${POOL} connections (cachekit's default pool size; the raw pools get the same). SQLite is synchronous underneath (better-sqlite3), so in flight changes little there. ops/s is ${roundsNote(options)}. "cachekit ÷ row" is the median of per-round ratios (the two ran moments apart in each round). Client versions: pg ${version('pg')}, mysql2 ${version('mysql2')}, better-sqlite3 ${version('better-sqlite3')}. The database servers are this machine's, shared with whatever else runs on it; the figures say what the store costs next to its driver, not what the server can do.`,
    '',
    table(
      [
        'Dialect: contender',
        'get, 1 at a time',
        'cachekit ÷ row',
        `get, ${IN_FLIGHT} in flight`,
        'cachekit ÷ row',
        'set, 1 at a time',
        'cachekit ÷ row',
        `set, ${IN_FLIGHT} in flight`,
        'cachekit ÷ row',
      ],
      rows,
    ),
    '',
    ...(missing.length > 0 ? [`Not measured this run: ${missing.join('; ')}.`, ''] : []),
    'Contenders:',
    '',
    ...dialects.map((d) => `- **${d.label}** (${d.server}): ${d.note}`),
  ].join('\n')
  return { body, targets: [] }
}

function task(d: Dialect, c: Contender, op: Op, misses: { count: number }): OpTask {
  const { keys } = c
  const name = `${d.name} ${c.name} ${op}`
  const get = async (j: number) => {
    if (!c.hit(await c.get(keys[order[j]!]!))) misses.count++
  }
  const set = (j: number) => c.set(keys[order[j]!]!, VALUE)
  const call = op === 'get1' || op === 'get16' ? get : set
  if (op === 'get16' || op === 'set16') {
    const next = windows(KEYS, PARALLEL_BATCH)
    return {
      name,
      async: true,
      ops: PARALLEL_BATCH,
      fn: () => inFlight(IN_FLIGHT, next(), PARALLEL_BATCH, call),
    }
  }
  const next = windows(KEYS, SERIAL_BATCH)
  return {
    name,
    async: true,
    ops: SERIAL_BATCH,
    fn: async () => {
      const start = next()
      for (let i = start; i < start + SERIAL_BATCH; i++) await call(i)
    },
  }
}

const cacheKeys = generate(KEYS, (i) => `user:${100_000 + i}`)
/** The random key order of every timed run, the same for every contender. */
const order = randomOrder(KEYS)
const rawKeys = cacheKeys.map((key) => `raw:${key}`)

/** The cache over a SQL store, migrated (the table created) before it is returned. */
async function cachekitOn(
  store: ReturnType<typeof sqlStore>,
): Promise<Contender & { close(): Promise<void> }> {
  await store.migrate()
  const cache = createCache({ store, prefix: PREFIX, ttl: TTL })
  return {
    name: 'cachekit',
    keys: cacheKeys,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    hit: (reply) => reply === VALUE,
    close: () => cache.close(),
  }
}

const rawHit = (reply: unknown) => {
  const rows = reply as { cache_value: Uint8Array }[]
  const value = rows[0]?.cache_value
  return (
    value !== undefined && Buffer.from(value.buffer, value.byteOffset, value.byteLength).equals(RAW_VALUE)
  )
}

async function openPostgres(table: string): Promise<Dialect> {
  const url = await findPostgresUrl()
  const cachekit = await cachekitOn(sqlStore({ dialect: 'postgres', url, table }))
  const pool = new pg.Pool({ connectionString: url, max: POOL })
  pool.on('error', () => {})
  const t = `"${table}"`
  const version = (await pool.query('SHOW server_version')).rows[0] as { server_version: string }
  return {
    name: 'postgres',
    label: LABELS.postgres,
    server: `PostgreSQL ${version.server_version} at 127.0.0.1:5432, database \`test\``,
    note: `\`sqlStore({ dialect: 'postgres', url, table })\` (its defaults: logged table, pool of ${POOL}, 1 s timeout); raw: \`new pg.Pool({ max: ${POOL} })\`, \`pool.query(sql, params)\` of the same SELECT (key and expiry) and INSERT … ON CONFLICT DO UPDATE.`,
    cachekit,
    raw: {
      name: 'raw pg',
      keys: rawKeys,
      get: async (key) =>
        (
          await pool.query(
            `SELECT cache_value, expires_at FROM ${t} WHERE cache_key = $1 AND (expires_at IS NULL OR expires_at > $2)`,
            [key, Date.now()],
          )
        ).rows,
      set: (key) =>
        pool.query(
          `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES ($1, $2, $3, $4)
ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,
  expires_at = excluded.expires_at, tag_version = excluded.tag_version`,
          [key, RAW_VALUE, Date.now() + TTL_MS, null],
        ),
      hit: rawHit,
    },
    close: async () => {
      await cachekit.close()
      if (!table.startsWith('ck_bench_')) throw new Error(`refusing to drop ${table}`)
      await pool.query(`DROP TABLE IF EXISTS ${t}, "${table}_tags"`)
      await pool.end()
    },
  }
}

async function openMysql(table: string): Promise<Dialect> {
  const url = 'mysql://root@127.0.0.1:3306/test'
  try {
    const probe = await mysql.createConnection({ uri: url, connectTimeout: 2000 })
    await probe.end()
  } catch (error) {
    throw new Error(`MariaDB at 127.0.0.1:3306 not reachable (${(error as Error).message})`)
  }
  const cachekit = await cachekitOn(sqlStore({ dialect: 'mysql', url, table }))
  const pool = mysql.createPool({ uri: url, connectionLimit: POOL })
  const t = `\`${table}\``
  const [versionRows] = await pool.query('SELECT VERSION() AS v')
  return {
    name: 'mysql',
    label: LABELS.mysql,
    server: `${(versionRows as { v: string }[])[0]?.v ?? 'unknown'} at 127.0.0.1:3306, database \`test\``,
    note: `\`sqlStore({ dialect: 'mysql', url, table })\` (InnoDB, pool of ${POOL}, 1 s timeout); raw: \`mysql2/promise\` \`createPool({ connectionLimit: ${POOL} })\`, \`pool.query(sql, params)\` (as the store calls it) of the same SELECT and INSERT … ON DUPLICATE KEY UPDATE.`,
    cachekit,
    raw: {
      name: 'raw mysql2',
      keys: rawKeys,
      get: async (key) =>
        (
          await pool.query(
            `SELECT cache_value, expires_at FROM ${t} WHERE cache_key = ? AND (expires_at IS NULL OR expires_at > ?)`,
            [key, Date.now()],
          )
        )[0],
      set: (key) =>
        pool.query(
          `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES (?, ?, ?, ?)
ON DUPLICATE KEY UPDATE cache_value = VALUES(cache_value), expires_at = VALUES(expires_at),
  tag_version = VALUES(tag_version)`,
          [key, RAW_VALUE, Date.now() + TTL_MS, null],
        ),
      hit: rawHit,
    },
    close: async () => {
      await cachekit.close()
      if (!table.startsWith('ck_bench_')) throw new Error(`refusing to drop ${table}`)
      await pool.query(`DROP TABLE IF EXISTS ${t}, \`${table}_tags\``)
      await pool.end()
    },
  }
}

async function openSqlite(table: string, dir: string): Promise<Dialect> {
  const filename = path.join(dir, 'cache.db')
  const cachekit = await cachekitOn(sqlStore({ dialect: 'sqlite', filename, table }))
  const db = new Database(filename, { timeout: 5000 })
  db.pragma('journal_mode = WAL')
  const t = `"${table}"`
  const select = db.prepare(
    `SELECT cache_value, expires_at FROM ${t} WHERE cache_key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  )
  const upsert = db.prepare(
    `INSERT INTO ${t} (cache_key, cache_value, expires_at, tag_version) VALUES (?, ?, ?, ?)
ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,
  expires_at = excluded.expires_at, tag_version = excluded.tag_version`,
  )
  const sqliteVersion = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  return {
    name: 'sqlite',
    label: LABELS.sqlite,
    server: `SQLite ${sqliteVersion} through better-sqlite3, a file in a temp directory`,
    note: `\`sqlStore({ dialect: 'sqlite', filename, table })\` (WAL, its defaults); raw: a second \`new Database(filename)\` on the same file, WAL, prepared statements of the same SELECT and INSERT … ON CONFLICT DO UPDATE, called as \`async\` functions so both sides are awaited alike.`,
    cachekit,
    raw: {
      name: 'raw better-sqlite3',
      keys: rawKeys,
      get: async (key) => select.all(key, Date.now()),
      set: async (key) => upsert.run(key, RAW_VALUE, Date.now() + TTL_MS, null),
      hit: rawHit,
    },
    close: async () => {
      await cachekit.close()
      db.close()
    },
  }
}
