/**
 * cachekit as the scenarios use it: the tsc build of src/ that bench/run.ts makes (see
 * ./build.ts for why), or src/ itself through tsx when a scenario is run on its own or with
 * `npm run bench -- --tsx`. Types always come from src/.
 */
import { pathToFileURL } from 'node:url'
import type * as Cachekit from '../../src/index.js'
import { MODULE_ENV } from './build.js'

export type { CodecOptions, MutationPolicy } from '../../src/index.js'

const built = process.env[MODULE_ENV]
const cachekit = (await import(built ? pathToFileURL(built).href : '../../src/index.js')) as typeof Cachekit

export const { createCache, createCodec, memoryStore } = cachekit
