/**
 * `npm run deploy`: the release step of the fifth seed, run before new app processes start.
 *
 * 1. `cachekit check` on the cache the app will use (the same variables `cacheFromEnv()` reads):
 *    a problem (unreachable, refused writes, a Cluster with slots missing...) stops the release.
 * 2. `cachekit migrate` on the SQL fallback (`CACHE_FALLBACK_URL`), so app processes whose database
 *    user may not run DDL find the cache table in place.
 * 3. Prints the `CACHE_VERSION` the release will read and write under: bump it when the shape of
 *    cached values changes, and the old entries are simply no longer read.
 *
 * Both commands are the package's own `cachekit` command line, run as `npx cachekit` would.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { loadConfig } from './config.js'

export interface DeployStep {
  readonly name: 'check' | 'migrate'
  readonly status: number
  readonly output: string
}

/** The `cachekit` bin of the installed package (in this repository: the build, `npm run build`). */
export function cachekitBin(): string {
  const manifest = createRequire(import.meta.url).resolve('cachekit/package.json')
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { cachekit: string } }
  const path = join(dirname(manifest), bin.cachekit)
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`)
  return path
}

/** Runs the deploy steps with `source` as the environment; stops at the first that fails. */
export function deploy(source: Readonly<Record<string, string | undefined>> = process.env): DeployStep[] {
  const config = loadConfig(source)
  const env = { ...process.env, ...config.env } as Record<string, string>
  const bin = cachekitBin()
  const run = (name: DeployStep['name'], args: string[]): DeployStep => {
    const result = spawnSync(process.execPath, [bin, name, ...args, '--no-progress'], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    })
    return { name, status: result.status ?? 1, output: `${result.stdout}${result.stderr}`.trim() }
  }
  const steps: DeployStep[] = []
  // The embedded default (memory) has no server to check; CACHE=off has no cache at all.
  const server = ['CACHE_URL', 'REDIS_URL', 'REDIS_LOCATION', 'REDIS_SENTINELS', 'VALKEY_HOST'].some(
    (name) => config.env[name] && !/^memory:/i.test(config.env[name] ?? ''),
  )
  if (server && !config.cacheOff) {
    steps.push(run('check', ['--timeout', '10s']))
    if (steps.at(-1)?.status !== 0) return steps
  }
  let fallback = config.env['CACHE_FALLBACK_URL']
  if (fallback?.toLowerCase() === 'database') fallback = config.env['DATABASE_URL']
  if (fallback) steps.push(run('migrate', ['--url', fallback]))
  return steps
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfig()
  const steps = deploy()
  for (const step of steps) console.log(`== cachekit ${step.name}\n${step.output}`)
  const failed = steps.find((step) => step.status !== 0)
  if (failed) {
    console.error(`deploy stopped: cachekit ${failed.name} exited with ${failed.status}`)
    process.exit(1)
  }
  console.log(
    `deploy checks passed; cache version ${config.env['CACHE_VERSION'] ?? '0 (CACHE_VERSION unset)'}`,
  )
}
