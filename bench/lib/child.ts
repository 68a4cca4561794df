import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * Runs a TypeScript file in a fresh Node process (same loader flags as this one, plus `flags`)
 * and resolves to the JSON it handed back with {@link reply}. A fresh process per scenario or per
 * library keeps one's JIT state, heap and leftover timers out of another's numbers.
 */
export async function runChild<T>(
  script: string,
  args: readonly string[],
  flags: readonly string[] = [],
): Promise<T> {
  const out = path.join(os.tmpdir(), `cachekit-bench-${randomUUID()}.json`)
  const execArgv = [...new Set([...process.execArgv, ...flags])]
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, script, out, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.on('error', reject)
    child.on('exit', resolve)
  })
  try {
    if (code !== 0) throw new Error(`${path.basename(script)} ${args.join(' ')} exited with code ${code}`)
    return JSON.parse(await readFile(out, 'utf8')) as T
  } finally {
    await rm(out, { force: true })
  }
}

/** In a child started by {@link runChild}: its arguments, after the reply path. */
export function childArgs(): string[] {
  return process.argv.slice(3)
}

/** In a child started by {@link runChild}: hands `value` back to the parent. */
export async function reply(value: unknown): Promise<void> {
  const out = process.argv[2]
  if (!out) throw new Error('reply() needs the output path that runChild() passes as the first argument')
  await writeFile(out, JSON.stringify(value))
}
