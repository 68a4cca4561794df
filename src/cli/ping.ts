import type { Connection } from './connect.js'
import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { EXIT, formatMs, type Outcome } from './output.js'

/** One round trip to the store: PING to every Redis master, a key lookup in SQL. Resolves to ms. */
export async function roundTrip(connection: Connection): Promise<number> {
  const started = performance.now()
  if (connection.redis) await connection.redis.sendToMasters(['PING'])
  else await connection.sql?.has('cachekit:ping')
  return performance.now() - started
}

/** `cachekit ping [--count n]`: connects and times round trips; exit 1 when unreachable. */
export async function pingCommand(ctx: CommandContext, options: { count: number }): Promise<Outcome> {
  const started = performance.now()
  return withConnection(ctx, async (connection) => {
    const connectMs = performance.now() - started
    const samples: number[] = []
    for (let i = 0; i < options.count; i++) samples.push(await roundTrip(connection))
    const sorted = [...samples].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0
    const json = {
      ok: true,
      store: connection.kind,
      url: connection.safeUrl,
      connectMs: round(connectMs),
      roundTripMs: { min: round(sorted[0] ?? 0), median: round(median), max: round(sorted.at(-1) ?? 0) },
      count: samples.length,
    }
    return {
      code: EXIT.ok,
      json,
      text: [
        `PONG from ${connection.safeUrl} (${connection.kind}): connected in ${formatMs(connectMs)}, round trip median ${formatMs(median)} over ${samples.length}`,
      ],
    }
  })
}

export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
