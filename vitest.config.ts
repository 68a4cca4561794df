import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const ci = process.env['CI'] === 'true'

// `cachekit/<door>` → src, as tsconfig.json `paths` say (the reference app under app/ imports the doors).
const tsconfig = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> }
}
const alias = Object.entries(tsconfig.compilerOptions.paths).map(([door, [target]]) => ({
  find: new RegExp(`^${door.replace('/', '\\/')}$`),
  replacement: fileURLToPath(new URL(target ?? '', import.meta.url)),
}))

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts', 'app/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Under CI a JSON report lets scripts/check-skips.mjs prove that no suite was skipped.
    reporters: ci ? ['default', 'json'] : ['default'],
    ...(ci ? { outputFile: { json: '.ci/vitest-report.json' } } : {}),
  },
})
