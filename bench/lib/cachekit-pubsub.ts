/**
 * cachekit's channels (`cachekit/pubsub`) as the scenarios use them, loaded like ./cachekit.ts: from
 * the tsc build next to the entry file bench/run.ts made, or from src/ through tsx.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as CachekitPubSub from '../../src/pubsub/index.js'
import { MODULE_ENV } from './build.js'

export type { Channel } from '../../src/pubsub/index.js'

const built = process.env[MODULE_ENV]
const pubsub = (await import(
  built
    ? pathToFileURL(path.join(path.dirname(built), 'pubsub', 'index.js')).href
    : '../../src/pubsub/index.js'
)) as typeof CachekitPubSub

export const { channel } = pubsub
