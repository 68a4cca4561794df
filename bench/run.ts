/**
 * `npm run bench [-- [--quick] [--tsx] [scenario ...]]`: runs every scenario file in bench/ (or the
 * named ones), each in its own Node process, and rewrites bench/RESULTS.md from what they measured,
 * keeping the sections of scenarios not run. `--quick` is a short smoke run with rough figures;
 * `--tsx` measures src/ as tsx loads it instead of its tsc build (see lib/build.ts).
 */
import { readdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildCachekit, MODULE_ENV } from './lib/build.js'
import { runChild } from './lib/child.js'
import { environment } from './lib/env.js'
import { readSections, renderSection, type Section, writeResults } from './lib/results-file.js'
import type { ScenarioReport } from './lib/scenario.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const results = path.join(here, 'RESULTS.md')
const args = process.argv.slice(2)
const quick = args.includes('--quick')
/** Load cachekit's source through tsx instead of its tsc build (see lib/build.ts). */
const viaTsx = args.includes('--tsx')
const wanted = args.filter((arg) => !arg.startsWith('--')).map((arg) => path.basename(arg, '.ts'))

const available = (await readdir(here))
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => path.basename(file, '.ts'))
  .sort()
const unknown = wanted.filter((name) => !available.includes(name))
if (unknown.length > 0) {
  console.error(`Unknown scenario ${unknown.join(', ')}; there are: ${available.join(', ')}`)
  process.exit(2)
}
const selected = wanted.length > 0 ? available.filter((name) => wanted.includes(name)) : available

const env = environment(viaTsx ? 'src/ through tsx (--tsx)' : 'its tsc build')
if (viaTsx) delete process.env[MODULE_ENV]
else {
  process.stderr.write('== building cachekit with tsc (see bench/lib/build.ts)\n')
  process.env[MODULE_ENV] = await buildCachekit(path.dirname(here))
}
const fresh = new Map<string, Section>()
let failed = 0
const started = Date.now()
for (const name of selected) {
  process.stderr.write(`\n== ${name}${quick ? ' (quick)' : ''}\n`)
  const t0 = Date.now()
  const loadBefore = os.loadavg()[0]!
  try {
    // --expose-gc lets the harness collect between contenders; heap probes need it too.
    const report = await runChild<ScenarioReport & { title: string }>(
      path.join(here, 'lib', 'scenario-child.ts'),
      [path.join(here, `${name}.ts`), quick ? 'quick' : 'full'],
      ['--expose-gc'],
    )
    const load = [loadBefore, os.loadavg()[0]!] as const
    fresh.set(name, renderSection(name, report.title, env, report.body, report.targets, load))
    for (const target of report.targets) {
      process.stderr.write(
        `  ${target.met ? 'MET    ' : 'NOT MET'} ${target.name}: ${target.measured} (goal ${target.goal})\n`,
      )
    }
  } catch (error) {
    failed++
    process.stderr.write(`  FAILED: ${(error as Error).message}\n`)
  }
  process.stderr.write(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
}

// Keep the sections of scenarios not run this time (and of failed ones), in the order of their titles.
// `app-load` is written by the reference app's load test (`npm run load`), not by a scenario here.
const EXTERNAL = ['app-load']
const kept = (await readSections(results)).filter(
  (section) => available.includes(section.name) || EXTERNAL.includes(section.name),
)
const merged = new Map(kept.map((section) => [section.name, section]))
for (const [name, section] of fresh) merged.set(name, section)
const sections = [...merged.values()].sort((a, b) => a.title.localeCompare(b.title, 'en', { numeric: true }))
await writeResults(results, env, sections)
process.stderr.write(
  `\nWrote ${path.relative(process.cwd(), results)} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
)
process.exit(failed > 0 ? 1 : 0)
