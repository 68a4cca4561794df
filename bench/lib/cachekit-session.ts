/**
 * cachekit's sessions (`cachekit/session`) as the scenarios use them, loaded like ./cachekit.ts:
 * from the tsc build next to the entry file bench/run.ts made, or from src/ through tsx.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as CachekitSession from '../../src/session/index.js'
import { MODULE_ENV } from './build.js'

const built = process.env[MODULE_ENV]
const session = (await import(
  built
    ? pathToFileURL(path.join(path.dirname(built), 'session', 'index.js')).href
    : '../../src/session/index.js'
)) as typeof CachekitSession

export const { createSessions, expressSession, expressSessionStore } = session
