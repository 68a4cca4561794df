/**
 * cachekit's Redis store (`cachekit/redis`) as the scenarios use it, loaded like ./cachekit.ts: from
 * the tsc build next to the entry file bench/run.ts made, or from src/ through tsx.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as CachekitRedis from '../../src/stores/redis/index.js'
import { MODULE_ENV } from './build.js'

const built = process.env[MODULE_ENV]
const redis = (await import(
  built
    ? pathToFileURL(path.join(path.dirname(built), 'stores', 'redis', 'index.js')).href
    : '../../src/stores/redis/index.js'
)) as typeof CachekitRedis

export type { RedisStore } from '../../src/stores/redis/index.js'
export const { redisStore, script } = redis
