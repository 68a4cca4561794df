/**
 * cachekit's locks (`cachekit/lock`) as the scenarios use them, loaded like ./cachekit.ts: from the
 * tsc build next to the entry file bench/run.ts made, or from src/ through tsx.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as CachekitLock from '../../src/lock/index.js'
import { MODULE_ENV } from './build.js'

export type { LockHandle, Locks } from '../../src/lock/index.js'

const built = process.env[MODULE_ENV]
const lock = (await import(
  built ? pathToFileURL(path.join(path.dirname(built), 'lock', 'index.js')).href : '../../src/lock/index.js'
)) as typeof CachekitLock

export const { createLocks } = lock
