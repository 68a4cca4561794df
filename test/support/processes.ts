/**
 * What every harness that runs child processes needs: free loopback ports, temp directories and
 * children that die with the test process (SIGKILL on exit, whatever happens), polling, and a
 * count of the handles that keep the process alive.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export const HOST = '127.0.0.1'

/** Every child process alive now and every temp directory, removed on exit whatever happens. */
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

/** Kills `child` (SIGKILL) when the test process exits, if it is still alive then. */
export function killOnExit(child: ChildProcess): void {
  hookExit()
  alive.add(child)
  child.once('exit', () => alive.delete(child))
}

/** A new temp directory, removed on exit unless {@link removeTempDir} removed it before. */
export function tempDir(kind: string): string {
  hookExit()
  const dir = mkdtempSync(join(tmpdir(), `cachekit-${kind}-`))
  dirs.add(dir)
  return dir
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
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

/** A loopback port with nothing listening on it (bound, then released): connections are refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
