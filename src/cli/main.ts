#!/usr/bin/env node
/**
 * `cachekit`: the command line of the cache (`npx cachekit --help`). One file per command beside
 * this one; this file parses arguments (commander), runs the command and turns its outcome into
 * output and an exit code (see `EXIT` in output.ts).
 */
import { Command, CommanderError, Option } from 'commander'
import { benchCommand } from './bench.js'
import { checkCommand } from './check.js'
import { clearCommand } from './clear.js'
import type { GlobalOptions } from './connect.js'
import type { CommandContext } from './context.js'
import { delCommand, getCommand, ttlCommand } from './entry.js'
import { keysCommand } from './keys.js'
import { migrateCommand } from './migrate.js'
import { describeError, EXIT, exitCodeOf, type Outcome, UsageError } from './output.js'
import { pingCommand } from './ping.js'
import { statsCommand } from './stats.js'
import { unlockCommand } from './unlock.js'

const EPILOG = `
Connection: --url, else the variables of cacheFromEnv(): CACHE_URL, REDIS_URL, REDIS_LOCATION,
REDIS_SENTINELS (+ REDIS_SENTINEL_MASTER, REDIS_PASSWORD, REDIS_DB), VALKEY_HOST (+ VALKEY_PORT).
Keys are those under CACHE_PREFIX (or --prefix), with CACHE_VERSION and CACHE_COMPRESSION applied.

Exit codes: 0 ok, 1 error (also: key not found, confirmation declined), 2 usage,
3 check found problems, 130 interrupted (Ctrl-C; what was done is reported).`

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new UsageError(`${name} takes a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
    }
    return n
  }
}

function decimal(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n))
      throw new UsageError(`${name} takes a number, got ${JSON.stringify(value)}`)
    return n
  }
}

/** Builds the program; `run` receives each command's work and settles the exit code. */
function buildProgram(
  run: (ctx: CommandContext, work: (ctx: CommandContext) => Promise<Outcome>) => Promise<void>,
) {
  const program = new Command('cachekit')
    .description(
      'Inspect, clear, check and benchmark the cache of a cachekit app (Redis, Valkey, PostgreSQL, MySQL, SQLite)',
    )
    .option(
      '--url <url>',
      'store URL (redis://, rediss://, redis+sentinel://, redis+cluster://, postgres://, mysql://, sqlite:<path>)',
    )
    .option('--prefix <prefix>', 'key prefix of the cache (default: CACHE_PREFIX)')
    .option('--table <name>', 'SQL stores: the cache table (default: cachekit_cache)')
    .option('--timeout <duration>', 'deadline of the connection and of each call', '5s')
    .option('--json', 'machine-readable output on stdout (progress and messages stay on stderr)', false)
    .option('--no-progress', 'no progress line on stderr')
    .addHelpText('after', EPILOG)
    .showHelpAfterError()
    .exitOverride()
  const context = (command: Command): CommandContext => {
    const options = command.optsWithGlobals() as GlobalOptions
    const print = (line: string) => {
      if (!options.json) process.stdout.write(`${line}\n`)
    }
    return { options, env: process.env, print }
  }
  const action =
    <A extends unknown[]>(work: (ctx: CommandContext, ...args: A) => Promise<Outcome>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command
      await run(context(command), (ctx) => work(ctx, ...(args.slice(0, -1) as A)))
    }

  program
    .command('stats')
    .description('server memory, eviction policy, hits, misses and hit rate, keys, clients')
    .action(action((ctx) => statsCommand(ctx)))
  program
    .command('keys')
    .description('list keys under the prefix matching a glob (SCAN, never KEYS)')
    .argument('[pattern]', 'glob: * ? [abc]', '*')
    .option('--limit <n>', 'stop after n keys', integer('--limit', 1, Number.MAX_SAFE_INTEGER))
    .action(action((ctx, pattern: string, options: { limit?: number }) => keysCommand(ctx, pattern, options)))
  program
    .command('get')
    .description('show a value, decoded (exit 1 when missing)')
    .argument('<key>')
    .action(action((ctx, key: string) => getCommand(ctx, key)))
  program
    .command('ttl')
    .description('ms left before a key expires, null for never (exit 1 when missing)')
    .argument('<key>')
    .action(action((ctx, key: string) => ttlCommand(ctx, key)))
  program
    .command('del')
    .description('delete keys')
    .argument('<keys...>')
    .action(action((ctx, keys: string[]) => delCommand(ctx, keys)))
  program
    .command('clear')
    .description('delete the keys matching a pattern: count, confirm, delete with progress')
    .requiredOption('--pattern <glob>', "keys to delete ('*' for every key under the prefix)")
    .option('--dry-run', 'count only', false)
    .option('-y, --yes', 'do not ask for confirmation', false)
    .action(
      action((ctx, options: { pattern: string; dryRun: boolean; yes: boolean }) =>
        clearCommand(ctx, options),
      ),
    )
  program
    .command('ping')
    .description('connect and time round trips (exit 1 when unreachable)')
    .option('--count <n>', 'round trips', integer('--count', 1, 10_000), 3)
    .action(action((ctx, options: { count: number }) => pingCommand(ctx, options)))
  program
    .command('check')
    .description("is the cache reachable and set up for caching? (Django's setup_cache; exit 3 on problems)")
    .option('--strict', 'warnings count as problems', false)
    .action(action((ctx, options: { strict: boolean }) => checkCommand(ctx, options)))
  program
    .command('migrate')
    .description("create the SQL cache tables if missing (Django's createcachetable)")
    .action(action((ctx) => migrateCommand(ctx)))
  program
    .command('unlock')
    .description('end login-guard lockouts of a user, an IP or the pair')
    .option('--user <username>', 'the username')
    .option('--ip <address>', 'the client address')
    .option('--reset', 'also forget the failures (guard.reset)', false)
    .option('--guard-prefix <prefix>', "the guard's prefix option", 'cachekit:guard')
    .option('--lock-by <list>', "the guard's lockBy option: ip,username,username+ip", 'ip')
    .action(
      action(
        (ctx, options: { user?: string; ip?: string; reset: boolean; guardPrefix: string; lockBy: string }) =>
          unlockCommand(ctx, options),
      ),
    )
  program
    .command('bench')
    .description('latency percentiles and throughput of get/set through the cache, for a bounded time')
    .addOption(
      new Option('--duration <seconds>', 'how long to run').argParser(decimal('--duration')).default(5),
    )
    .option('--concurrency <n>', 'calls in flight', integer('--concurrency', 1, 1000), 16)
    .option('--size <bytes>', 'bytes per value', integer('--size', 0, 1_000_000), 100)
    .addOption(new Option('--reads <fraction>', 'share of reads').argParser(decimal('--reads')).default(0.8))
    .action(
      action((ctx, options: { duration: number; concurrency: number; size: number; reads: number }) =>
        benchCommand(ctx, options),
      ),
    )
  return program
}

/** Prints an outcome (JSON or lines) and sets the exit code; errors go to stderr (and as JSON). */
async function run(ctx: CommandContext, work: (ctx: CommandContext) => Promise<Outcome>): Promise<void> {
  const json = ctx.options.json
  try {
    const outcome = await work(ctx)
    if (json) process.stdout.write(`${JSON.stringify(outcome.json)}\n`)
    else for (const line of outcome.text) process.stdout.write(`${line}\n`)
    process.exitCode = outcome.code
  } catch (error) {
    const described = describeError(error)
    process.stderr.write(`cachekit: ${described.message}\n`)
    if (json) process.stdout.write(`${JSON.stringify({ error: described })}\n`)
    process.exitCode = exitCodeOf(error)
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram(run)
  try {
    await program.parseAsync(argv as string[])
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage
      if (error.exitCode !== 0 && argv.includes('--json')) {
        process.stdout.write(`${JSON.stringify({ error: { code: 'E_USAGE', message: error.message } })}\n`)
      }
    } else {
      process.stderr.write(`cachekit: ${describeError(error).message}\n`)
      process.exitCode = exitCodeOf(error)
    }
  }
  // Exit once stdout and stderr are flushed (a big --json document to a pipe is written
  // asynchronously), without waiting for a driver's lingering timer.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)])
  process.exit(process.exitCode ?? 0)
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve()
    else stream.write('', () => resolve())
  })
}

await main(process.argv)
