import { execFileSync } from 'node:child_process'
import os from 'node:os'

export interface Environment {
  readonly date: string
  readonly node: string
  readonly v8: string
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly platform: string
  /** The commit measured, and whether src/ had uncommitted changes (they are measured too). */
  readonly source: string
  /** How the benchmarks loaded cachekit. */
  readonly cachekit: string
}

/** Where and when the numbers were taken: they mean little without it. */
export function environment(cachekit: string): Environment {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    source: sourceState(),
    cachekit,
  }
}

function sourceState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: 'pipe' }).trim()
    const commit = git('rev-parse', '--short', 'HEAD')
    return git('status', '--porcelain', '--', 'src') ? `${commit} + uncommitted changes in src/` : commit
  } catch {
    return 'unknown (not a git checkout)'
  }
}

export function describeEnvironment(env: Environment): string {
  return `${env.date.slice(0, 19).replace('T', ' ')} UTC, Node ${env.node} (V8 ${env.v8}), ${env.cpu} × ${env.cores} cores, ${env.memoryGiB} GiB RAM, ${env.platform}; cachekit ${env.source}, loaded as ${env.cachekit}`
}
