// Runs the suites whose guarantees depend on timing (Redis, tiers, SQL, request protection,
// getOrSet) while the machine is kept busy: one CPU hog per core, at the same priority as the
// tests. A guarantee that holds only on a quiet machine is not a guarantee; this is how CI checks.
//
//   npm run test:stress                 the default suites
//   npm run test:stress -- test/stores/redis   any vitest filters instead
//
// Under CI=true the run writes its own JSON report and fails if any test was skipped.
import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'

const SUITES = [
  'test/stores/redis',
  'test/stores/sql',
  'test/ratelimit',
  'test/lock',
  'test/session',
  'test/pubsub',
  'test/cli',
  'test/tiers/tiers.test.ts',
  'test/cache/get-or-set.test.ts',
  'test/cache/get-or-set-invalidation.test.ts',
]
const filters = process.argv.slice(2)
const ci = process.env.CI === 'true'
const report = '.ci/vitest-stress-report.json'

// Each hog spins a core for at most 20 minutes even if this script is killed without cleanup.
const hogs = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ['-e', 'const end = Date.now() + 20 * 60_000; while (Date.now() < end) {}'], {
    stdio: 'ignore',
  }),
)
const stopHogs = () => {
  for (const hog of hogs) hog.kill('SIGKILL')
}
process.on('exit', stopHogs)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopHogs()
    process.exit(130)
  })
}

console.log(
  `stress: ${hogs.length} CPU hogs running; vitest on ${(filters.length ? filters : SUITES).join(' ')}`,
)
const args = ['vitest', 'run', ...(filters.length ? filters : SUITES)]
if (ci) args.push('--reporter=default', '--reporter=json', `--outputFile.json=${report}`)
const vitest = spawn('npx', args, { stdio: 'inherit', env: process.env })
const code = await new Promise((resolve) => vitest.on('exit', (status) => resolve(status ?? 1)))
stopHogs()
if (code !== 0) process.exit(code)
if (ci) {
  const check = spawn(process.execPath, ['scripts/check-skips.mjs', report], { stdio: 'inherit' })
  process.exit(await new Promise((resolve) => check.on('exit', (status) => resolve(status ?? 1))))
}
