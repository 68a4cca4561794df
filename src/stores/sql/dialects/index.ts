// Internal door: what code outside stores/sql/dialects/ uses from it. Never in package.json "exports".
export { mysqlDialect } from './mysql.js'
export { postgresDialect } from './postgres.js'
export { sqliteDialect } from './sqlite.js'
