import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { redisAvailable, useRedisServer } from './support/redis.js'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname
const examples = readdirSync(`${root}examples`).filter((name) => name.endsWith('.ts'))

/**
 * How an example runs when `--import tsx` is not enough. Nest's needs legacy decorators (its
 * tsconfig turns them on) and tsx's ESM hook only: the CommonJS hook would load Nest 12's
 * ESM-only core a second time for `@nestjs/throttler` (CommonJS), and its guard would not find
 * Nest's `Reflector`.
 */
const runners: Record<string, { readonly loader: string; readonly env: Record<string, string> }> = {
  'nest.ts': { loader: 'tsx/esm', env: { TSX_TSCONFIG_PATH: 'test/nest/tsconfig.json' } },
}

/** Every example is documentation that runs: it must exit cleanly and print what it shows. */
describe.skipIf(!redisAvailable())('examples', () => {
  const server = useRedisServer()

  for (const name of examples) {
    it(`${name} runs`, async () => {
      const runner = runners[name]
      const { stdout } = await run(
        process.execPath,
        ['--import', runner?.loader ?? 'tsx', `examples/${name}`],
        {
          cwd: root,
          timeout: 60_000,
          env: { ...process.env, REDIS_URL: server.url, ...runner?.env },
        },
      )
      expect(stdout.trim().length).toBeGreaterThan(0)
    })
  }
})
