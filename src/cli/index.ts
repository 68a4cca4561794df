// Internal door: the commands of the `cachekit` command line. Its entry point is main.ts
// (package.json "bin"), which parses arguments and runs one of these.
export { benchCommand } from './bench.js'
export { checkCommand } from './check.js'
export { clearCommand } from './clear.js'
export type { CommandContext } from './context.js'
export { delCommand, getCommand, ttlCommand } from './entry.js'
export { keysCommand } from './keys.js'
export { migrateCommand } from './migrate.js'
export { EXIT, type Outcome, UsageError } from './output.js'
export { pingCommand } from './ping.js'
export { statsCommand } from './stats.js'
export { unlockCommand } from './unlock.js'
