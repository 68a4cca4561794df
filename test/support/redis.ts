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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const BINARY = process.env['REDIS_SERVER_BIN'] ?? 'redis-server'
const CLI = process.env['REDIS_CLI_BIN'] ?? 'redis-cli'
const HOST = '127.0.0.1'

/** Every child process alive now, killed on exit whatever happens. */
const alive = new Set<ChildProcess>()
const dirs = new Set<string>()
let hooked = false

function hookExit(): void {
  if (hooked) return
  hooked = true
  process.once('exit', () => {
    for (const child of alive) {
      try {
        child.kill('SIGKILL')
      } catch {}
    }
    for (const dir of dirs) {
      try {
        rmSync(dir, { recursive: true, force: true })
      } catch {}
    }
  })
}

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

/** A loopback TCP port free now (and, with `bus`, its Cluster bus port `port + 10000` too). */
export async function freePort(options: { bus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0)
    if (!options.bus) return port
    if (port + 10_000 < 65_536 && (await isFree(port + 10_000))) return port
  }
  throw new Error('No free loopback port found')
}

async function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(port, HOST, () => {
      const address = server.address()
      const chosen = typeof address === 'object' && address ? address.port : port
      server.close(() => resolve(chosen))
    })
  })
}

async function isFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port)
    return true
  } catch {
    return false
  }
}

function tempDir(kind: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cachekit-${kind}-`))
  dirs.add(dir)
  return dir
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

class Process {
  child: ChildProcess | undefined
  paused = false
  /** The tail of the server's output, for start failures. */
  output = ''

  constructor(
    readonly dir: string,
    readonly args: readonly string[],
  ) {}

  start(): void {
    hookExit()
    const child = spawn(BINARY, this.args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-2000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    alive.add(child)
    child.once('exit', () => alive.delete(child))
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
async function waitReady(port: number, proc: Process | undefined, tls: boolean, ms = 10_000) {
  const until = Date.now() + ms
  let last = ''
  while (Date.now() < until) {
    const child = proc?.child
    if (proc && (!child || child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`redis-server on port ${port} exited during start:\n${proc.output}`)
    }
    const reply = tls ? await pingTls(port) : await ping(port)
    if (reply && !reply.startsWith('-LOADING')) return
    last = reply
    await sleep(25)
  }
  throw new Error(`redis-server on port ${port} did not answer within ${ms} ms (${last})`)
}

function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port })
    let data = ''
    const done = (value: string) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(500, () => done(''))
    socket.once('error', () => done(''))
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1')
      if (data.includes('\r\n')) done(data)
    })
    socket.once('connect', () => socket.write('PING\r\n'))
  })
}

async function pingTls(port: number): Promise<string> {
  const tls = await import('node:tls')
  return new Promise((resolve) => {
    const socket = tls.connect({ host: HOST, port, rejectUnauthorized: false })
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
    socket.once('secureConnect', () => socket.write('PING\r\n'))
  })
}

function cliArgs(port: number, password: string | undefined, tls: TlsFiles | undefined): string[] {
  const args = ['-h', HOST, '-p', String(port), '--no-auth-warning']
  if (password !== undefined) args.push('-a', password)
  if (tls) args.push('--tls', '--cacert', tls.cert)
  return args
}

function runCli(base: string[], args: string[]): string {
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
      rmSync(dir, { recursive: true, force: true })
      dirs.delete(dir)
    },
  }
}

export interface SentinelSetup {
  readonly masterName: string
  readonly master: RedisServer
  readonly replica: RedisServer
  /** Sentinel ports. */
  readonly sentinels: readonly number[]
  /** `redis+sentinel://h:p,h:p,h:p/<masterName>` */
  readonly url: string
  /** Kills the master and waits until the sentinels promote the replica. */
  failover(): Promise<void>
  stop(): Promise<void>
}

/** A master, one replica and three sentinels (quorum 2, down after 1 s). */
export async function startSentinel(masterName = 'mymaster'): Promise<SentinelSetup> {
  const master = await startRedis()
  const replica = await startRedis({ args: ['--replicaof', HOST, String(master.port)] })
  const sentinels: Process[] = []
  const ports: number[] = []
  try {
    for (let i = 0; i < 3; i++) {
      const dir = tempDir('sentinel')
      const port = await freePort()
      const conf = join(dir, 'sentinel.conf')
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${masterName} ${HOST} ${master.port} 2`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 5000`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      )
      const proc = new Process(dir, [conf, '--sentinel'])
      proc.start()
      sentinels.push(proc)
      ports.push(port)
      await waitReady(port, proc, false)
    }
    await waitFor(() => {
      const out = runCli(cliArgs(ports[0] as number, undefined, undefined), [
        'SENTINEL',
        'REPLICAS',
        masterName,
      ])
      return out.includes(String(replica.port)) && !out.includes('s_down')
    }, 15_000)
  } catch (error) {
    for (const proc of sentinels) await proc.kill()
    await master.stop()
    await replica.stop()
    throw error
  }
  return {
    masterName,
    master,
    replica,
    sentinels: ports,
    url: `redis+sentinel://${ports.map((p) => `${HOST}:${p}`).join(',')}/${masterName}`,
    async failover() {
      await master.kill()
      await waitFor(() => {
        const out = runCli(cliArgs(ports[0] as number, undefined, undefined), [
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          masterName,
        ])
        return out.includes(String(replica.port))
      }, 20_000)
    },
    async stop() {
      for (const proc of sentinels) await proc.kill()
      await master.stop()
      await replica.stop()
    },
  }
}

export interface ClusterSetup {
  readonly nodes: readonly RedisServer[]
  /** `redis+cluster://h:p,h:p,h:p` (the masters as created). */
  readonly url: string
  readonly rootNodes: readonly { readonly host: string; readonly port: number }[]
  stop(): Promise<void>
}

/** Three masters with one replica each, created by `redis-cli --cluster create`. */
export async function startCluster(): Promise<ClusterSetup> {
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < 6; i++) {
      nodes.push(
        await startRedis({
          args: [
            ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
            ...['--cluster-node-timeout', '1000', '--cluster-require-full-coverage', 'no'],
            // Replicas sync at once (the default waits 5 s), so a failover test has a replica
            // with data: one that never synced refuses to take over.
            ...['--repl-diskless-sync-delay', '0'],
          ],
        }),
      )
    }
    const addresses = nodes.map((n) => `${HOST}:${n.port}`)
    runCli([], ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'])
    await waitFor(() => nodes.every((n) => n.cli('CLUSTER', 'INFO').includes('cluster_state:ok')), 20_000)
    await waitFor(
      () =>
        nodes
          .map((n) => n.cli('INFO', 'replication'))
          .filter((info) => info.includes('role:slave'))
          .every((info) => info.includes('master_link_status:up')),
      20_000,
    )
  } catch (error) {
    for (const node of nodes) await node.stop()
    throw error
  }
  const masters = nodes.slice(0, 3)
  return {
    nodes,
    url: `redis+cluster://${masters.map((n) => `${HOST}:${n.port}`).join(',')}`,
    rootNodes: masters.map((n) => ({ host: HOST, port: n.port })),
    async stop() {
      for (const node of nodes) await node.stop()
    },
  }
}

/** Polls `check` until it is true or `ms` have passed. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  every = 50,
): Promise<void> {
  const until = Date.now() + ms
  let lastError: unknown
  while (Date.now() < until) {
    try {
      if (await check()) return
    } catch (error) {
      lastError = error
    }
    await sleep(every)
  }
  throw new Error(`Condition not met within ${ms} ms${lastError ? `: ${String(lastError)}` : ''}`)
}

/** Handles keeping the process alive, by type (`TCPSocketWrap`, `Timeout`...). */
export function activeHandles(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/**
 * Handle types that grew since `before` (from {@link activeHandles}), as `type: before -> now`.
 * Child-process pipes and file requests belong to the harness and vitest, not to a store.
 */
export function leakedHandles(before: Map<string, number>): string[] {
  const out: string[] = []
  for (const [type, n] of activeHandles()) {
    if (type === 'PipeWrap' || type === 'ProcessWrap' || type === 'FSReqCallback') continue
    if (n > (before.get(type) ?? 0)) out.push(`${type}: ${before.get(type) ?? 0} -> ${n}`)
  }
  return out
}
