/** Runs the app as a separate process (`node --import tsx app/main.ts`), as `npm start` does. */
import { type ChildProcess, spawn } from 'node:child_process'

export interface AppProcess {
  readonly url: string
  readonly logs: string[]
  stop(): Promise<void>
}

const root = new URL('..', import.meta.url).pathname

/** Starts the app with `env` (and PATH/HOME only) and waits for its "ready" line. */
export function spawnApp(env: Record<string, string>, timeoutMs = 120_000): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`app did not start in ${timeoutMs} ms:\n${logs.join('\n')}`))
    }, timeoutMs)
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue
        logs.push(line)
        const ready = line.match(/^ready in .*: (http:\/\/\S+)/)
        if (ready?.[1]) {
          clearTimeout(timer)
          resolve({ url: ready[1], logs, stop })
        }
      }
    }
    child.stdout?.on('data', onLine)
    child.stderr?.on('data', onLine)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`app exited with ${code}:\n${logs.join('\n')}`))
    })
  })
}
