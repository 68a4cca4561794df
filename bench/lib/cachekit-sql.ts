/**
 * cachekit's SQL stores (`cachekit/sql`) as the scenarios use them, loaded like ./cachekit.ts: from
 * the tsc build next to the entry file bench/run.ts made, or from src/ through tsx.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as CachekitSql from '../../src/stores/sql/index.js'
import { MODULE_ENV } from './build.js'

export type { SqlStore, SqlStoreOptions } from '../../src/stores/sql/index.js'

const built = process.env[MODULE_ENV]
const sql = (await import(
  built
    ? pathToFileURL(path.join(path.dirname(built), 'stores', 'sql', 'index.js')).href
    : '../../src/stores/sql/index.js'
)) as typeof CachekitSql

export const { sqlStore } = sql
