import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { onInterrupt } from './interrupt.js'
import { EXIT, type Outcome } from './output.js'
import { startProgress } from './progress.js'

export interface KeysOptions {
  /** The most keys listed; the scan stops there. */
  readonly limit?: number
}

/**
 * `cachekit keys [pattern]`: the keys under the cache's prefix that match a glob, by SCAN (never
 * KEYS) in Redis, by an indexed range in SQL. A person gets one key per line as they come.
 */
export async function keysCommand(
  ctx: CommandContext,
  pattern: string,
  options: KeysOptions,
): Promise<Outcome> {
  return withConnection(ctx, async ({ cache }) => {
    const interrupt = onInterrupt()
    const progress = startProgress('scanning', undefined, ctx.options.progress)
    const keys: string[] = []
    let count = 0
    let truncated = false
    try {
      for await (const key of cache.keys(pattern)) {
        if (options.limit !== undefined && count >= options.limit) {
          truncated = true
          break
        }
        count++
        // Under --json the keys go out in one document; a person gets them as they come.
        if (ctx.options.json) keys.push(key)
        else ctx.print(key)
        if (count % 1000 === 0) progress.add(1000)
        if (interrupt.stopped) break
      }
    } finally {
      progress.add(count % 1000)
      progress.stop()
      interrupt.dispose()
    }
    const json = {
      pattern,
      count,
      truncated,
      interrupted: interrupt.stopped,
      ...(ctx.options.json ? { keys } : {}),
    }
    const tail = `${count} key${count === 1 ? '' : 's'}${truncated ? ` (stopped at --limit ${options.limit})` : ''}${interrupt.stopped ? ' (interrupted)' : ''}`
    // The keys alone on stdout (pipe-friendly); the summary on stderr.
    if (!ctx.options.json) process.stderr.write(`${tail}\n`)
    return { code: interrupt.stopped ? EXIT.interrupted : EXIT.ok, json, text: [] }
  })
}
