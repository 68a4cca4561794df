import type { Cache } from '../cache/index.js'
import { backingOf } from '../stores/index.js'
import type { ScriptRunner } from '../stores/redis/index.js'
import { SessionStoreUnsupportedError } from './errors.js'
import { memoryBackend } from './memory-backend.js'
import { redisBackend } from './redis-backend.js'

/** One session record as stored: data fields as JSON text, plus its bookkeeping. */
export interface StoredSession {
  /** Field name → JSON text of its value. */
  readonly fields: ReadonlyMap<string, string>
  /** When the record was last written or touched (epoch ms). */
  readonly touchedAt: number
  /** The keyed hash of its user id, when it has one. */
  readonly user: string | undefined
  /** When its user's index last recorded it as active (epoch ms; 0 = never). */
  readonly indexedAt: number
}

/** A write: the fields to set, the fields to remove. */
export interface SessionWrite {
  readonly set: ReadonlyMap<string, string>
  readonly remove: readonly string[]
  /** The user hash to record; `null` clears it; `undefined` leaves what is stored. */
  readonly user: string | null | undefined
  /** The user's index is being told of this write: record `now` as `indexedAt`. */
  readonly indexed: boolean
}

/**
 * `written`: done. `destroyed`: a tombstone stands, nothing was written. `missing`: a merge met no
 * record (it expired), nothing was written; the caller writes the whole session instead.
 */
export type WriteOutcome = 'written' | 'destroyed' | 'missing'

/**
 * What the session core needs from a store, each step atomic for every instance sharing it. Keys
 * are complete store keys. `ttl` and `now` are milliseconds.
 */
export interface SessionBackend {
  load(key: string): Promise<StoredSession | undefined>
  /** `merge`: change only the named fields of a live record. `create`: replace the record. */
  write(
    key: string,
    mode: 'merge' | 'create',
    w: SessionWrite,
    now: number,
    ttl: number,
  ): Promise<WriteOutcome>
  /** Renews a live record's TTL and sets `set` (the volatile fields); never revives a tombstone. */
  touch(
    key: string,
    set: ReadonlyMap<string, string>,
    indexed: boolean,
    now: number,
    ttl: number,
  ): Promise<WriteOutcome>
  /** Replaces the record by a tombstone living `ttl`; resolves to the user hash it had. */
  destroy(key: string, ttl: number): Promise<string | undefined>
  /** Records `member` in a user's index as active at `now`; drops members idle longer than `ttl`. */
  indexAdd(index: string, member: string, now: number, ttl: number): Promise<void>
  indexList(index: string, now: number, ttl: number): Promise<string[]>
  indexRemove(index: string, members: readonly string[]): Promise<void>
}

/**
 * Picks the backend for the store a cache was built on, by what the cache declares (`BACKING`,
 * never by class; a tiered store stands for its shared tier): a store with `scriptRunner()` runs
 * scripts (Redis); the memory store answers synchronously, so each step runs in one turn of the
 * event loop.
 */
export function backendFor(cache: Cache): SessionBackend {
  const backing = backingOf(cache)
  const store = backing?.store ?? cache.store
  const withRunner = store as { scriptRunner?: () => ScriptRunner }
  if (typeof withRunner.scriptRunner === 'function') return redisBackend(withRunner.scriptRunner())
  if (backing?.kind === 'memory') return memoryBackend(backing.store)
  throw new SessionStoreUnsupportedError(
    `Sessions cannot run on the "${store.name}" store: build the cache on memoryStore() or redisStore()`,
  )
}
