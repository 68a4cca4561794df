import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'

/** A child process that reports JSON events, one per stdout line (`{ "event": "ready", ... }`). */
export interface Worker {
  readonly proc: ChildProcessWithoutNullStreams
  readonly events: Record<string, unknown>[]
  /** Resolves with the exit code; the worker is killed if it has not exited after `limit` ms. */
  readonly exited: Promise<number | null>
  /** The first event of that name (already seen, or the next); `{ missing: true }` if the worker exits first. */
  next(event: string): Promise<Record<string, unknown>>
}

/**
 * Starts `script` with tsx and waits for its `ready` event. The worker is killed after `limit` ms
 * whatever happens, so a hung child never outlives its test.
 */
export async function startWorker(
  script: string,
  args: readonly string[],
  options: { readonly limit?: number; readonly cwd?: string } = {},
): Promise<Worker> {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: 'pipe',
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
  const events: Record<string, unknown>[] = []
  const waiting = new Map<string, (event: Record<string, unknown>) => void>()
  let buffer = ''
  let errors = ''
  proc.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const event = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>
      buffer = buffer.slice(nl + 1)
      events.push(event)
      waiting.get(event['event'] as string)?.(event)
    }
  })
  proc.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()))
  const kill = setTimeout(() => proc.kill('SIGKILL'), options.limit ?? 60_000)
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(kill)
      for (const [name, wake] of waiting) wake({ event: name, missing: true, errors })
      resolve(code)
    }),
  )
  const next = (name: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = events.find((e) => e['event'] === name)
      if (seen) resolve(seen)
      else waiting.set(name, resolve)
    })
  const ready = await next('ready')
  if (ready['missing']) throw new Error(`worker did not start: ${errors}`)
  return { proc, events, exited, next }
}
