import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { redisAvailable, useRedisServer } from './support/redis.js'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname
const examples = readdirSync(`${root}examples`).filter((name) => name.endsWith('.ts'))

/** Every example is documentation that runs: it must exit cleanly and print what it shows. */
describe.skipIf(!redisAvailable())('examples', () => {
  const server = useRedisServer()

  for (const name of examples) {
    it(`${name} runs`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}`], {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, REDIS_URL: server.url },
      })
      expect(stdout.trim().length).toBeGreaterThan(0)
    })
  }
})
