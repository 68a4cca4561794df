// Internal door: what code outside stores/sql/drivers/ uses from it. Never in package.json "exports".
export type { SqliteDatabaseLike } from './better-sqlite3.js'
export type { MysqlPoolLike } from './mysql2.js'
export { openDriver } from './open.js'
export type { PgPoolLike } from './pg.js'
