/**
 * The machine's database servers for the SQL store tests: PostgreSQL on 127.0.0.1:5432 and MariaDB
 * (or MySQL) on 127.0.0.1:3306, database `test`, plus SQLite files in a temp directory. Override
 * with CACHEKIT_PG_URL and CACHEKIT_MYSQL_URL.
 *
 * Every suite works in tables named `ck_test_<random>` and drops them afterwards; no other table
 * is touched. Under `CI=true` an unreachable server fails the suite instead of skipping it.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'

const CI = process.env['CI'] === 'true'

/** A table name no other run uses. */
export function uniqueTable(): string {
  return `ck_test_${randomBytes(5).toString('hex')}`
}

function unreachable(what: string, error: unknown): undefined {
  const message = `${what} is not reachable (${error instanceof Error ? error.message : String(error)})`
  if (CI) throw new Error(`CI=true: ${message}; SQL suites must not be skipped in CI`)
  console.warn(`[cachekit sql tests] skipping: ${message}`)
  return undefined
}

/** A PostgreSQL URL that works here (user postgres, else root), or undefined outside CI. */
export async function postgresUrl(): Promise<string | undefined> {
  try {
    return await findPostgresUrl()
  } catch (error) {
    return unreachable('PostgreSQL', error)
  }
}

/** The first PostgreSQL URL that answers (CACHEKIT_PG_URL, else user postgres, else root); throws if none. */
export async function findPostgresUrl(): Promise<string> {
  const candidates = process.env['CACHEKIT_PG_URL']
    ? [process.env['CACHEKIT_PG_URL']]
    : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test']
  let last: unknown
  for (const url of candidates) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return url
    } catch (error) {
      last = error
    } finally {
      await client.end().catch(() => {})
    }
  }
  throw new Error(
    `${candidates.map((url) => new URL(url).host).join(' or ')}: ${last instanceof Error ? last.message : String(last)}`,
  )
}

/** A MariaDB/MySQL URL that works here, or undefined outside CI. */
export async function mysqlUrl(): Promise<string | undefined> {
  const url = process.env['CACHEKIT_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 })
    await connection.query('SELECT 1')
    await connection.end()
    return url
  } catch (error) {
    return unreachable(`MariaDB/MySQL (${new URL(url).host})`, error)
  }
}

/** Drops a test table, its tags table and its rate-limit state table. */
export async function dropPostgres(pool: pg.Pool, table: string): Promise<void> {
  if (!table.startsWith('ck_test_')) throw new Error(`refusing to drop ${table}`)
  await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}_tags", "${table}_rate"`)
}

export async function dropMysql(pool: mysql.Pool, table: string): Promise<void> {
  if (!table.startsWith('ck_test_')) throw new Error(`refusing to drop ${table}`)
  await pool.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_tags\`, \`${table}_rate\``)
}

/** A temp directory for SQLite files, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cachekit-sql-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
