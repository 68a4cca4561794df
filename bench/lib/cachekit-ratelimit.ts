/**
 * cachekit's request protection (`cachekit/ratelimit`) as the scenarios use it, loaded like
 * ./cachekit.ts: from the tsc build next to the entry file bench/run.ts made, or from src/ through tsx.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as CachekitRatelimit from '../../src/ratelimit/index.js'
import { MODULE_ENV } from './build.js'

export type { RateLimiter, RateLimitResult } from '../../src/ratelimit/index.js'

const built = process.env[MODULE_ENV]
const ratelimit = (await import(
  built
    ? pathToFileURL(path.join(path.dirname(built), 'ratelimit', 'index.js')).href
    : '../../src/ratelimit/index.js'
)) as typeof CachekitRatelimit

export const { createRateLimiter } = ratelimit
