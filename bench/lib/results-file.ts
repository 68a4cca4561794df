import { readFile, writeFile } from 'node:fs/promises'
import { describeEnvironment, type Environment } from './env.js'
import { met, table } from './format.js'
import type { Target } from './scenario.js'

/** One scenario's part of RESULTS.md, kept between runs that do not rerun it. */
export interface Section {
  /** The scenario's file name without `.ts`. */
  readonly name: string
  readonly title: string
  /** The section's Markdown, heading and measurement line included. */
  readonly markdown: string
  readonly targets: readonly Target[]
}

const SECTION = /<!-- section:([\w-]+) -->\n([\s\S]*?)\n<!-- \/section:\1 -->/g
const TARGETS = /<!-- targets (.*) -->/
const TITLE = /^## (.*)$/m

export function renderSection(
  name: string,
  title: string,
  env: Environment,
  body: string,
  targets: readonly Target[],
  load: readonly [before: number, after: number],
): Section {
  const markdown = [
    `## ${title}`,
    '',
    `_Measured ${describeEnvironment(env)}; 1-minute load average ${load[0].toFixed(2)} before and ${load[1].toFixed(2)} after, on ${env.cores} cores (more than the one core a scenario uses means other processes were competing)._`,
    '',
    body.trim(),
    '',
    `<!-- targets ${JSON.stringify(targets)} -->`,
  ].join('\n')
  return { name, title, markdown, targets }
}

/** The sections of an existing RESULTS.md, so a partial run keeps the others. */
export async function readSections(file: string): Promise<Section[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return []
  }
  const sections: Section[] = []
  for (const match of text.matchAll(SECTION)) {
    const [, name, markdown] = match as unknown as [string, string, string]
    const targets = JSON.parse(TARGETS.exec(markdown)?.[1] ?? '[]') as Target[]
    sections.push({ name, title: TITLE.exec(markdown)?.[1] ?? name, markdown, targets })
  }
  return sections
}

export async function writeResults(
  file: string,
  env: Environment,
  sections: readonly Section[],
): Promise<void> {
  const rows = sections.flatMap((section) =>
    section.targets.map((t) => [section.title, t.name, t.goal, t.measured, met(t.met)]),
  )
  const text = [
    '# cachekit benchmarks',
    '',
    'Written by `npm run bench` (`bench/run.ts`) from the measurements of the run; do not edit by hand.',
    'Run one scenario with `npm run bench -- core-memory`; the other sections are kept from their last run.',
    'Every contender of a scenario runs side by side in one process on the same keys and values, so',
    'compare ratios within a table rather than absolute ops/s across machines or runs.',
    '',
    `Last run: ${describeEnvironment(env)}.`,
    '',
    '## Targets',
    '',
    rows.length > 0
      ? table(['Scenario', 'Target', 'Goal', 'Measured', 'Status'], rows)
      : '_No scenario has targets._',
    '',
    ...sections.flatMap((section) => [
      `<!-- section:${section.name} -->`,
      section.markdown,
      `<!-- /section:${section.name} -->`,
      '',
    ]),
  ].join('\n')
  await writeFile(file, text)
}
