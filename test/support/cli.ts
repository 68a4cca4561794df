/**
 * Runs the built CLI (`node dist/cli/main.js`, as `npx cachekit` does) as a subprocess, and starts
 * redis-server from the files in deploy/ with ports and paths swapped in. `npm test` builds before
 * vitest runs; alone, run `npm run build` first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from './processes.js'

export const ROOT = new URL('../..', import.meta.url).pathname
export const CLI = join(ROOT, 'dist/cli/main.js')

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as one JSON document (fails the test when it is not). */
  json<T = Record<string, unknown>>(): T
}

export interface CliOptions {
  /** The environment (on top of a clean one: PATH, HOME only). */
  readonly env?: Record<string, string>
  /** Text written to stdin, then stdin is closed. */
  readonly input?: string
  readonly timeoutMs?: number
  /** Called with the child once started (to send signals). */
  readonly onStart?: (child: ChildProcess, output: { stderr: () => string; stdout: () => string }) => void
}

/** Runs `cachekit <args>` and resolves when it exits (killed after `timeoutMs`, default 60 s). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`)
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  if (options.input !== undefined) child.stdin.end(options.input)
  else child.stdin.end()
  options.onStart?.(child, { stderr: () => stderr, stdout: () => stdout })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T
          } catch {
            throw new Error(`stdout is not one JSON document:\n${stdout}\n--- stderr:\n${stderr}`)
          }
        },
      })
    })
  })
}

// -- deploy/ configurations on real servers ---------------------------------------------------------

/** The passwords of the users in deploy/redis.conf. */
export const DEPLOY_PASSWORDS = {
  cachekit: 'change-me-cachekit-password',
  ops: 'change-me-ops-password',
} as const

const alive = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL')
})

/** A temp directory with copies of deploy files, paths and ports swapped in. */
export class DeployDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'cachekit-deploy-'))
  readonly #children: ChildProcess[] = []

  /** Copies `deploy/<file>` to `<dir>/<as>`, applying each `[pattern, replacement]` (each must match). */
  copy(file: string, as: string, swaps: readonly (readonly [RegExp, string])[]): string {
    let text = readFileSync(join(ROOT, 'deploy', file), 'utf8')
    for (const [pattern, replacement] of swaps) {
      if (!pattern.test(text)) throw new Error(`deploy/${file}: ${pattern} not found`)
      text = text.replace(pattern, replacement)
    }
    const path = join(this.dir, as)
    writeFileSync(path, text)
    return path
  }

  /** The base redis.conf, listening on loopback, its scratch directory in the temp directory. */
  base(): string {
    return this.copy('redis.conf', 'redis.conf', [
      [/^bind .*$/m, 'bind 127.0.0.1'],
      [/^dir \/data$/m, `dir ${this.dir}`],
    ])
  }

  /** Starts `redis-server <conf> <args>` and waits until `port` answers PING as the ops user. */
  async start(
    conf: string,
    port: number,
    args: readonly string[] = [],
    sentinel = false,
  ): Promise<ChildProcess> {
    const child = spawn('redis-server', [conf, ...args, ...(sentinel ? ['--sentinel'] : [])], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (c: Buffer) => {
      output = (output + c.toString()).slice(-3000)
    })
    child.stderr?.on('data', (c: Buffer) => {
      output = (output + c.toString()).slice(-3000)
    })
    alive.add(child)
    this.#children.push(child)
    child.once('exit', () => alive.delete(child))
    const auth = sentinel ? [] : ['--user', 'ops', '--pass', DEPLOY_PASSWORDS.ops]
    try {
      await waitFor(() => {
        if (child.exitCode !== null) return true
        return this.cli(port, auth, ['PING']) === 'PONG'
      }, 15_000)
      if (child.exitCode !== null) throw new Error('redis-server exited during start')
    } catch (error) {
      throw new Error(`${String(error)}\n${output}`)
    }
    return child
  }

  /** redis-cli against a local port. */
  cli(port: number, auth: readonly string[], args: readonly string[]): string {
    return execFileSync(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', ...auth, ...args],
      {
        encoding: 'utf8',
        timeout: 20_000,
        stdio: 'pipe',
      },
    ).trim()
  }

  opsCli(port: number, ...args: string[]): string {
    return this.cli(port, ['--user', 'ops', '--pass', DEPLOY_PASSWORDS.ops], args)
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGKILL')
          }),
      ),
    )
    rmSync(this.dir, { recursive: true, force: true })
  }
}
