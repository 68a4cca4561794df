import pg from 'pg'
import { type Db, numbered, type Param, type Queryable, type Row } from './sql.js'

// BIGINT and NUMERIC come back as strings by default; the app's amounts are whole cents.
pg.types.setTypeParser(20, (value) => Number(value))
pg.types.setTypeParser(1700, (value) => Number(value))

/** PostgreSQL through a `pg` pool; `schema` (tests) keeps every table in a schema of its own. */
export async function openPostgres(url: string, schema?: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('DATABASE_SCHEMA must be a lower-case identifier')
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    pool.on('connect', (client) => void client.query(`SET search_path TO ${schema}`))
  }
  let queries = 0
  let txQueries = 0
  const over = (client: pg.Pool | pg.PoolClient, inTx = false): Queryable => ({
    dialect: 'postgres',
    async all<T extends Row>(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return (await client.query(numbered(sql), params as Param[])).rows as T[]
    },
    async get<T extends Row>(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return (await client.query(numbered(sql), params as Param[])).rows[0] as T | undefined
    },
    async run(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      return (await client.query(numbered(sql), params as Param[])).rowCount ?? 0
    },
    async insert(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      const result = await client.query(`${numbered(sql)} RETURNING id`, params as Param[])
      return Number(result.rows[0].id)
    },
  })
  // A first query so a `search_path` set on connect is in place before any caller's.
  await pool.query('SELECT 1')
  return {
    ...over(pool),
    get queries() {
      return queries
    },
    get txQueries() {
      return txQueries
    },
    description: `PostgreSQL ${new URL(url).host}${schema ? ` (schema ${schema})` : ''}`,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(over(client, true))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
    async exec(sql: string) {
      await pool.query(sql)
    },
    async close() {
      await pool.end()
    },
  }
}
