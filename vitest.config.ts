import { defineConfig } from 'vitest/config'

const ci = process.env['CI'] === 'true'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Under CI a JSON report lets scripts/check-skips.mjs prove that no suite was skipped.
    reporters: ci ? ['default', 'json'] : ['default'],
    ...(ci ? { outputFile: { json: '.ci/vitest-report.json' } } : {}),
  },
})
