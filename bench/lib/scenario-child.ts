/** Child entry: runs one scenario file and hands its report back to `bench/run.ts`. */
import { pathToFileURL } from 'node:url'
import { childArgs, reply } from './child.js'
import type { Scenario } from './scenario.js'

const [file, quick] = childArgs()
if (!file) throw new Error('usage: scenario-child.ts <out.json> <scenario.ts> [quick]')
const module = (await import(pathToFileURL(file).href)) as { default?: Scenario }
if (!module.default) throw new Error(`${file} has no default export made with defineScenario()`)
const report = await module.default.run({ quick: quick === 'quick' })
await reply({ title: module.default.title, ...report })
// Some peers leave timers or handles behind (cleanup intervals); the report is written, so stop here.
process.exit(0)
