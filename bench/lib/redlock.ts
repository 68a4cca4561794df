/**
 * redlock 5 (beta) for the lock scenario. Its package.json `exports` has no `types` condition, so
 * TypeScript cannot find its declarations through the package name: they are imported by path and
 * given to the untyped default export.
 */

// @ts-expect-error redlock's `exports` hides its declarations (see above)
import RedlockModule from 'redlock'
import type RedlockClass from '../../node_modules/redlock/dist/index.js'

export const Redlock = RedlockModule as typeof RedlockClass
export type Redlock = RedlockClass
