// Under CI=true, fails when the test run skipped anything: the suites that need Redis, PostgreSQL
// or MariaDB must run, not skip, in CI (the harnesses already throw when a server is missing; this
// is the backstop for any skip that slips through). Outside CI it does nothing.
import { existsSync, readFileSync } from 'node:fs'

if (process.env.CI !== 'true') process.exit(0)
const path = process.argv[2] ?? new URL('../.ci/vitest-report.json', import.meta.url)
if (!existsSync(path)) {
  console.error(`check-skips: no ${String(path)}; did vitest run with CI=true?`)
  process.exit(1)
}
const report = JSON.parse(readFileSync(path, 'utf8'))
const skipped = []
for (const file of report.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    if (test.status !== 'passed' && test.status !== 'failed')
      skipped.push(`${file.name}: ${test.fullName} (${test.status})`)
  }
}
if (skipped.length > 0) {
  console.error(
    `check-skips: ${skipped.length} test(s) did not run under CI=true:\n- ${skipped.slice(0, 50).join('\n- ')}`,
  )
  process.exit(1)
}
console.log(
  `check-skips: all ${report.numTotalTests} tests ran (${report.numPassedTests} passed, ${report.numFailedTests} failed, 0 skipped)`,
)
