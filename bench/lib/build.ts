import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { promisify } from 'node:util'

/** Where the runner tells scenario processes to load cachekit from (see ./cachekit.ts). */
export const MODULE_ENV = 'CACHEKIT_BENCH_MODULE'

/**
 * Compiles src/ with tsc, as `npm run build` does, into node_modules/.cache (so its imports of
 * lru-cache and msgpackr resolve) and resolves to the entry file. The benchmarks load cachekit
 * from there: tsx compiles with esbuild's `keepNames`, which adds `__name(this, "Class")` to every
 * class and makes `instanceof` against cachekit's classes several times slower than in the
 * published build, a cost the peers (plain JS from node_modules, untouched by tsx) do not pay.
 */
export async function buildCachekit(root: string): Promise<string> {
  // One directory per checkout: git worktrees share node_modules through a symlink, and one
  // checkout's build must not replace another's under a running benchmark.
  const outDir = path.join(root, 'node_modules', '.cache', `cachekit-bench-${path.basename(root)}`)
  await rm(outDir, { recursive: true, force: true })
  const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc')
  const args = [
    tsc,
    '-p',
    'tsconfig.build.json',
    '--outDir',
    outDir,
    '--declaration',
    'false',
    '--sourceMap',
    'false',
  ]
  try {
    await promisify(execFile)(process.execPath, args, { cwd: root })
  } catch (error) {
    // tsc still emits when it finds type errors; only a missing entry file is fatal.
    const entry = path.join(outDir, 'index.js')
    if (!existsSync(entry)) throw error
    process.stderr.write(`  tsc reported errors in src/; benchmarking what it emitted anyway\n`)
  }
  return path.join(outDir, 'index.js')
}
