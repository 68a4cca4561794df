import type { Env } from '../config/index.js'
import { type Connection, connect, type GlobalOptions } from './connect.js'

/** What every command gets from main.ts. */
export interface CommandContext {
  readonly options: GlobalOptions
  readonly env: Env
  /** Writes one line for a person on stdout now (never under `--json`). */
  readonly print: (line: string) => void
}

/** Opens the connection, runs `work`, closes the connection whatever happens. */
export async function withConnection<T>(
  ctx: CommandContext,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await connect(ctx.options, ctx.env)
  try {
    return await work(connection)
  } finally {
    await connection.close()
  }
}
