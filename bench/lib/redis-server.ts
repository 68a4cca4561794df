/**
 * A throwaway `redis-server` for one scenario: a free loopback port, a temp directory, no
 * persistence. Killed by `stop()`, and again (SIGKILL) when the process exits for any reason, so a
 * failing scenario never leaves a server behind. The shared Redis on 6379 is never touched.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const HOST = '127.0.0.1'

export interface BenchRedis {
  readonly port: number
  readonly url: string
  /** `redis-server --version`'s figure, for the report. */
  readonly version: string
  stop(): Promise<void>
}

const alive = new Set<ChildProcess>()
const dirs = new Set<string>()
let hooked = false

function hookExit(): void {
  if (hooked) return
  hooked = true
  const cleanup = () => {
    for (const child of alive) child.kill('SIGKILL')
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', cleanup)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup()
      process.exit(130)
    })
  }
}

/** Starts `redis-server` and resolves once it answers PING (within 10 s, or rejects). */
/** Runs `work` against a fresh bench server and stops the server afterwards, also on failure. */
export async function withBenchRedis<T>(work: (server: BenchRedis) => Promise<T>): Promise<T> {
  const server = await startBenchRedis()
  try {
    return await work(server)
  } finally {
    await server.stop()
  }
}

export async function startBenchRedis(extraArgs: readonly string[] = []): Promise<BenchRedis> {
  hookExit()
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cachekit-bench-redis-'))
  dirs.add(dir)
  const args = [
    ...['--port', String(port), '--bind', HOST, '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
    ...extraArgs,
  ]
  const child = spawn(process.env['REDIS_SERVER_BIN'] ?? 'redis-server', args, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  alive.add(child)
  let failed: Error | undefined
  child.once('error', (error) => {
    failed = error
  })
  child.once('exit', () => alive.delete(child))
  const stop = async () => {
    if (alive.has(child)) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
    dirs.delete(dir)
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    if (failed) throw new Error(`redis-server could not start: ${failed.message}`)
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    const info = await command(port, 'INFO server').catch(() => undefined)
    if (info !== undefined) {
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
      return { port, url: `redis://${HOST}:${port}`, version, stop }
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error('redis-server did not answer within 10 s')
    }
    await sleep(20)
  }
}

/**
 * Sends one inline command on a fresh connection and resolves to its reply's text (simple or
 * bulk string replies only). Used for setup and for reading INFO, outside any timed code.
 */
export function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, HOST)
    let data = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply to ${line} within 5 s`))
    }, 5000)
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('connect', () => socket.write(`${line}\r\n`))
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      const reply = parseReply(data)
      if (reply === undefined) return
      clearTimeout(timer)
      socket.destroy()
      if (reply instanceof Error) reject(reply)
      else resolve(reply)
    })
  })
}

function parseReply(data: string): string | Error | undefined {
  const end = data.indexOf('\r\n')
  if (end < 0) return undefined
  const head = data.slice(0, end)
  if (head.startsWith('+') || head.startsWith(':')) return head.slice(1)
  if (head.startsWith('-')) return new Error(head.slice(1))
  if (head.startsWith('$')) {
    const length = Number(head.slice(1))
    if (length < 0) return ''
    const body = Buffer.from(data.slice(end + 2), 'utf8')
    return body.byteLength >= length + 2 ? body.subarray(0, length).toString('utf8') : undefined
  }
  return new Error(`unexpected reply ${head}`)
}

/** Calls per command (`cmdstat_get` → `get`) and the server's total, from INFO. */
export interface CommandCounts {
  readonly total: number
  readonly calls: ReadonlyMap<string, number>
}

export async function commandCounts(port: number): Promise<CommandCounts> {
  const stats = await command(port, 'INFO commandstats')
  const total = await command(port, 'INFO stats')
  const calls = new Map<string, number>()
  for (const match of stats.matchAll(/^cmdstat_([\w|-]+):calls=(\d+)/gm)) {
    calls.set(match[1]!, Number(match[2]))
  }
  return { total: Number(/total_commands_processed:(\d+)/.exec(total)?.[1] ?? Number.NaN), calls }
}

/**
 * Commands the server processed between two {@link commandCounts} readings, by name, leaving out
 * the two INFO commands of the readings themselves.
 */
export function commandDelta(before: CommandCounts, after: CommandCounts): Map<string, number> {
  const out = new Map<string, number>()
  for (const [name, calls] of after.calls) {
    const delta = calls - (before.calls.get(name) ?? 0) - (name === 'info' ? 2 : 0)
    if (delta > 0) out.set(name, delta)
  }
  return out
}

export function describeCommands(delta: ReadonlyMap<string, number>): string {
  if (delta.size === 0) return 'none'
  return [...delta].map(([name, n]) => `${n} ${name.toUpperCase()}`).join(' + ')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
