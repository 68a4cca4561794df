import mysql from 'mysql2/promise'
import type { Db, Param, Queryable, Row } from './sql.js'

/** MariaDB/MySQL through a `mysql2` pool. */
export async function openMysql(url: string): Promise<Db> {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: 10,
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
  })
  let queries = 0
  let txQueries = 0
  const over = (client: mysql.Pool | mysql.PoolConnection, inTx = false): Queryable => ({
    dialect: 'mysql',
    async all<T extends Row>(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      const [rows] = await client.query(sql, params as Param[])
      return rows as T[]
    },
    async get<T extends Row>(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      const [rows] = await client.query(sql, params as Param[])
      return (rows as T[])[0] as T | undefined
    },
    async run(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      const [result] = await client.query(sql, params as Param[])
      return (result as mysql.ResultSetHeader).affectedRows
    },
    async insert(sql: string, params: readonly Param[] = []) {
      queries++
      if (inTx) txQueries++
      const [result] = await client.query(sql, params as Param[])
      return (result as mysql.ResultSetHeader).insertId
    },
  })
  return {
    ...over(pool),
    get queries() {
      return queries
    },
    get txQueries() {
      return txQueries
    },
    description: `MariaDB/MySQL ${new URL(url).host}`,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const connection = await pool.getConnection()
      try {
        await connection.beginTransaction()
        const result = await fn(over(connection, true))
        await connection.commit()
        return result
      } catch (error) {
        await connection.rollback().catch(() => undefined)
        throw error
      } finally {
        connection.release()
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
