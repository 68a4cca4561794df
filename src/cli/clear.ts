import { createInterface } from 'node:readline/promises'
import type { Cache } from '../cache/index.js'
import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { type Interrupt, onInterrupt } from './interrupt.js'
import { EXIT, formatMs, type Outcome, UsageError } from './output.js'
import { startProgress } from './progress.js'

export interface ClearOptions {
  readonly pattern?: string
  readonly dryRun?: boolean
  readonly yes?: boolean
}

/** Keys per UNLINK / DELETE batch, and batches in flight at once. */
const BATCH = 1000
const IN_FLIGHT = 4

/**
 * `cachekit clear --pattern P`: counts the matching keys under the cache's prefix (a scan, with
 * progress), asks for confirmation (unless `--yes`), then scans again and deletes exactly the keys
 * that match, in batches, with progress and ETA. `--dry-run` stops after the count. Ctrl-C stops
 * after the batches in hand and reports how many were deleted (exit 130).
 */
export async function clearCommand(ctx: CommandContext, options: ClearOptions): Promise<Outcome> {
  const pattern = options.pattern
  if (pattern === undefined || pattern === '') {
    throw new UsageError("clear needs --pattern (use --pattern '*' for every key under the prefix)")
  }
  if (!options.yes && !options.dryRun && ctx.options.json) {
    throw new UsageError('clear --json needs --yes (or --dry-run): scripts confirm explicitly')
  }
  return withConnection(ctx, async ({ cache }) => {
    const interrupt = onInterrupt()
    const started = performance.now()
    try {
      const counted = await count(cache, pattern, interrupt, ctx.options.progress)
      const base = { pattern, prefix: cache.makeKey('x').slice(0, -1) || null, matched: counted }
      if (interrupt.stopped) {
        return {
          code: EXIT.interrupted,
          json: { ...base, deleted: 0, interrupted: true, dryRun: Boolean(options.dryRun) },
          text: [`Interrupted while counting: ${counted} keys matched so far, nothing deleted`],
        }
      }
      if (options.dryRun || counted === 0) {
        return {
          code: EXIT.ok,
          json: { ...base, deleted: 0, interrupted: false, dryRun: Boolean(options.dryRun) },
          text: [
            `${counted} key${counted === 1 ? '' : 's'} match ${pattern}${options.dryRun ? ' (dry run: nothing deleted)' : ''}`,
          ],
        }
      }
      if (!options.yes && !(await confirm(`Delete ${counted} keys matching ${pattern}? [y/N] `))) {
        return {
          code: EXIT.error,
          json: { ...base, deleted: 0, interrupted: false, dryRun: false, declined: true },
          text: ['Not confirmed: nothing deleted'],
        }
      }
      const deleted = await remove(cache, pattern, counted, interrupt, ctx.options.progress)
      const ms = performance.now() - started
      return {
        code: interrupt.stopped ? EXIT.interrupted : EXIT.ok,
        json: { ...base, deleted, interrupted: interrupt.stopped, dryRun: false, ms: Math.round(ms) },
        text: [
          `${interrupt.stopped ? 'Interrupted: ' : ''}deleted ${deleted} key${deleted === 1 ? '' : 's'} matching ${pattern} in ${formatMs(ms)}`,
        ],
      }
    } finally {
      interrupt.dispose()
    }
  })
}

async function count(cache: Cache, pattern: string, interrupt: Interrupt, show: boolean): Promise<number> {
  const progress = startProgress('counting', undefined, show)
  let n = 0
  try {
    for await (const _ of cache.keys(pattern)) {
      n++
      if (n % BATCH === 0) {
        progress.add(BATCH)
        if (interrupt.stopped) break
      }
    }
  } finally {
    progress.add(n % BATCH)
    progress.stop()
  }
  return n
}

async function remove(
  cache: Cache,
  pattern: string,
  expected: number,
  interrupt: Interrupt,
  show: boolean,
): Promise<number> {
  const progress = startProgress('deleting', expected, show)
  let deleted = 0
  let failure: { error: unknown } | undefined
  const inFlight = new Set<Promise<void>>()
  const send = (batch: string[]) => {
    const job: Promise<void> = cache.deleteMany(batch).then(
      (n) => {
        deleted += n
        progress.add(batch.length)
        inFlight.delete(job)
      },
      (error: unknown) => {
        failure ??= { error }
        inFlight.delete(job)
      },
    )
    inFlight.add(job)
    return job
  }
  try {
    let batch: string[] = []
    let seen = 0
    for await (const key of cache.keys(pattern)) {
      batch.push(key)
      seen++
      if (seen > expected) progress.setTotal(seen)
      if (batch.length < BATCH) continue
      send(batch)
      batch = []
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
      if (failure || interrupt.stopped) break
    }
    if (batch.length > 0 && !failure && !interrupt.stopped) send(batch)
  } finally {
    await Promise.all(inFlight)
    progress.stop()
  }
  if (failure) throw failure.error
  return deleted
}

/** Asks on stderr, reads one line from stdin (a terminal or a pipe); only y/yes confirms. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY })
  try {
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')))
    const answer = await Promise.race([rl.question(question), closed])
    return /^\s*y(es)?\s*$/i.test(answer)
  } finally {
    rl.close()
  }
}
