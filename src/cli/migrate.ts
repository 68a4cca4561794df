import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { EXIT, type Outcome, UsageError } from './output.js'

/**
 * `cachekit migrate` (`--table name`): creates the SQL cache tables and indexes if they do not exist
 * (Django's `createcachetable`); idempotent. Run it at deploy time when the app's database user may
 * not run DDL (`sqlStore({ autoMigrate: false })`).
 */
export async function migrateCommand(ctx: CommandContext): Promise<Outcome> {
  return withConnection(ctx, async (connection) => {
    const sql = connection.sql
    if (!sql) {
      throw new UsageError(
        `migrate is for SQL stores; ${connection.safeUrl} is ${connection.kind}, which needs no tables`,
      )
    }
    const table = ctx.options.table ?? 'cachekit_cache'
    await sql.migrate()
    return {
      code: EXIT.ok,
      json: { ok: true, dialect: sql.name, table, tagsTable: `${table}_tags`, url: connection.safeUrl },
      text: [`Tables ${table} and ${table}_tags are ready in ${connection.safeUrl} (${sql.name})`],
    }
  })
}
