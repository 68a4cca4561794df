/**
 * Starts and stops real `redis-server` processes for tests: standalone (optionally with a password,
 * an ACL user, TLS), Sentinel and Cluster, each on free loopback ports in its own temp directory,
 * without persistence. Every process started here is killed when its owner stops it, and again
 * (SIGKILL) when the test process exits, so a failing test never leaves servers behind.
 *
 * The shared Redis on 6379 is never touched.
 *
 * Under `CI=true` a missing or unstartable `redis-server` is a failure, not a skip: see
 * {@link redisAvailable}.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll } from 'vitest'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { freePort, HOST, killOnExit, removeTempDir, tempDir } from './processes.js'

const BINARY = process.env['REDIS_SERVER_BIN'] ?? 'redis-server'
const CLI = process.env['REDIS_CLI_BIN'] ?? 'redis-cli'

let availability: boolean | undefined

/**
 * True when `redis-server` can run here. False (tests skip) only outside CI: under `CI=true` a
 * missing binary throws, so a Redis suite fails instead of being silently skipped.
 */
export function redisAvailable(): boolean {
  if (availability !== undefined) return availability
  try {
    execFileSync(BINARY, ['--version'], { stdio: 'pipe', timeout: 5000 })
    availability = true
  } catch (error) {
    if (process.env['CI'] === 'true') {
      throw new Error(
        `CI=true and ${BINARY} cannot run (${String(error)}): install redis-server; Redis suites must not be skipped in CI`,
      )
    }
    availability = false
  }
  return availability
}

export interface TlsFiles {
  readonly cert: string
  readonly key: string
  /** The certificate's PEM text, to trust it as a CA in clients. */
  readonly ca: string
}

/** A self-signed certificate for `localhost`/127.0.0.1, made with openssl now. */
export function makeTlsFiles(dir = tempDir('tls')): TlsFiles {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-keyout', key, '-out', cert, '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ],
    { stdio: 'pipe', timeout: 20_000 },
  )
  return { cert, key, ca: readFileSync(cert, 'utf8') }
}

export interface StandaloneOptions {
  /** `requirepass`: the default user's password. */
  readonly password?: string
  /** An extra ACL user with every permission. */
  readonly user?: { readonly name: string; readonly password: string }
  /** Serve TLS only (the plain port is closed). */
  readonly tls?: boolean
  /** More `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  readonly args?: readonly string[]
}

export interface RedisServer {
  readonly host: string
  readonly port: number
  /** A `redis://` (or `rediss://`) URL with the credentials this server was started with. */
  readonly url: string
  readonly tls: TlsFiles | undefined
  readonly pid: number | undefined
  /** `kill -9`: the server dies without a word, its data gone. */
  kill(): Promise<void>
  /** Starts the server again on the same port and waits until it answers. */
  restart(): Promise<void>
  /** SIGSTOP: the server keeps its sockets open and answers nothing. */
  pause(): void
  /** SIGCONT after {@link pause}. */
  resume(): void
  /** Runs a redis-cli command against this server and returns its output. */
  cli(...args: string[]): string
  /** Stops the server (SIGKILL: there is nothing to save) and removes its directory. */
  stop(): Promise<void>
}

/** One redis-server (or sentinel) process, restartable in the same directory. */
export class Process {
  child: ChildProcess | undefined
  paused = false
  /** The tail of the server's output, for start failures. */
  output = ''

  constructor(
    readonly dir: string,
    readonly args: readonly string[],
  ) {}

  start(): void {
    const child = spawn(BINARY, this.args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-2000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    killOnExit(child)
    this.child = child
  }

  async kill(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    this.paused = false
    await exited
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal)
    this.paused = signal === 'SIGSTOP'
  }
}

/** Waits until a server on `port` answers a PING (any reply but LOADING counts). */
export async function waitReady(port: number, proc: Process | undefined, tls: boolean, ms = 10_000) {
  const until = Date.now() + ms
  let last = ''
  while (Date.now() < until) {
    const child = proc?.child
    if (proc && (!child || child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`redis-server on port ${port} exited during start:\n${proc.output}`)
    }
    const reply = await ping(port, tls)
    if (reply && !reply.startsWith('-LOADING')) return
    last = reply
    await sleep(25)
  }
  throw new Error(`redis-server on port ${port} did not answer within ${ms} ms (${last})`)
}

async function ping(port: number, tls: boolean): Promise<string> {
  const socket = tls
    ? (await import('node:tls')).connect({ host: HOST, port, rejectUnauthorized: false })
    : net.connect({ host: HOST, port })
  return new Promise((resolve) => {
    let data = ''
    const done = (value: string) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(500, () => done(''))
    socket.once('error', () => done(''))
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1')
      if (data.includes('\r\n')) done(data)
    })
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'))
  })
}

export function cliArgs(port: number, password: string | undefined, tls: TlsFiles | undefined): string[] {
  const args = ['-h', HOST, '-p', String(port), '--no-auth-warning']
  if (password !== undefined) args.push('-a', password)
  if (tls) args.push('--tls', '--cacert', tls.cert)
  return args
}

export function runCli(base: string[], args: string[]): string {
  return execFileSync(CLI, [...base, ...args], { encoding: 'utf8', timeout: 20_000, stdio: 'pipe' }).trim()
}

const BASE_ARGS = ['--save', '', '--appendonly', 'no', '--bind', HOST, '--protected-mode', 'no']

/** Starts one standalone server on a free port; retries on a port taken in the meantime. */
export async function startRedis(options: StandaloneOptions = {}): Promise<RedisServer> {
  if (!redisAvailable()) throw new Error('redis-server is not installed')
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options)
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

async function startOnce(options: StandaloneOptions): Promise<RedisServer> {
  const dir = tempDir('redis')
  const port = await freePort()
  const tls = options.tls ? makeTlsFiles(dir) : undefined
  const args = [...BASE_ARGS, '--dir', dir]
  if (tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert)
    args.push('--tls-key-file', tls.key, '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no')
  } else args.push('--port', String(port))
  if (options.password !== undefined) args.push('--requirepass', options.password)
  if (options.user) {
    args.push('--user', options.user.name, 'on', `>${options.user.password}`, '~*', '&*', '+@all')
  }
  args.push(...(options.args ?? []))
  const proc = new Process(dir, args)
  proc.start()
  try {
    await waitReady(port, proc, Boolean(tls))
  } catch (error) {
    await proc.kill()
    throw error
  }
  const auth = options.user
    ? `${encodeURIComponent(options.user.name)}:${encodeURIComponent(options.user.password)}@`
    : options.password !== undefined
      ? `:${encodeURIComponent(options.password)}@`
      : ''
  const base = cliArgs(port, options.password, tls)
  return {
    host: HOST,
    port,
    url: `${tls ? 'rediss' : 'redis'}://${auth}${HOST}:${port}`,
    tls,
    get pid() {
      return proc.child?.pid
    },
    kill: () => proc.kill(),
    async restart() {
      await proc.kill()
      proc.start()
      await waitReady(port, proc, Boolean(tls))
    },
    pause: () => proc.signal('SIGSTOP'),
    resume: () => proc.signal('SIGCONT'),
    cli: (...cmd: string[]) => runCli(base, cmd),
    async stop() {
      if (proc.paused) proc.signal('SIGCONT')
      await proc.kill()
      removeTempDir(dir)
    },
  }
}

/**
 * One standalone server for the enclosing describe (or file): started in `beforeAll`, stopped in
 * `afterAll` (after the `afterAll` hooks registered later, which close what used it). The object
 * answers for the running server, so tests and hooks read `server.url` as usual.
 */
export function useRedisServer(options: StandaloneOptions = {}): RedisServer {
  let started: RedisServer | undefined
  beforeAll(async () => {
    started = await startRedis(options)
  })
  afterAll(async () => {
    await started?.stop()
  })
  const live = (): RedisServer => {
    if (started === undefined) throw new Error('useRedisServer: the server starts in beforeAll')
    return started
  }
  return {
    get host() {
      return live().host
    },
    get port() {
      return live().port
    },
    get url() {
      return live().url
    },
    get tls() {
      return live().tls
    },
    get pid() {
      return live().pid
    },
    kill: () => live().kill(),
    restart: () => live().restart(),
    pause: () => live().pause(),
    resume: () => live().resume(),
    cli: (...args) => live().cli(...args),
    stop: () => live().stop(),
  }
}

/**
 * A Redis store on `server` for the enclosing describe: connected before its tests, closed after
 * them (before the server stops). Read it with `store()` inside tests and hooks.
 */
export function useRedisStore(server: RedisServer, options: { timeout?: number } = {}): () => RedisStore {
  let store: RedisStore | undefined
  beforeAll(async () => {
    store = redisStore({ url: server.url, ...options })
    await store.ready()
  })
  afterAll(async () => {
    await store?.close()
  })
  return () => {
    if (store === undefined) throw new Error('useRedisStore: the store opens in beforeAll')
    return store
  }
}
