import type { Codec } from '../codec/index.js'
import { Envelope, UNDEFINED } from '../codec/index.js'
import type { Clock } from '../internal/index.js'
import type { CompleteStore, Store } from '../stores/index.js'
import type { Counters } from './stats.js'

/** State a root cache shares with its namespaces and versions. */
export interface Shared {
  readonly store: CompleteStore
  readonly original: Store
  /** Present when the store keeps bytes; values are encoded with it. */
  readonly codec: Codec | undefined
  readonly clock: Clock
  readonly prefix: string
  readonly maxKeyLength: number
  /** Factory calls running now, by full key: the in-process single flight of `getOrSet`. */
  readonly inflight: Map<string, Flight>
  /**
   * Flights that ended while reads of their key were still out, with the sequence number of
   * their end: such a read may have been answered before the flight's write became visible, so
   * its miss joins the flight instead of starting another (see `get-or-set.ts`).
   */
  readonly landed: Map<string, { readonly flight: Flight; readonly seq: number }>
  /** Reads of `getOrSet` still out, by full key. */
  readonly reading: Map<string, number>
  /** Orders read starts and flight ends (see `landed`). */
  seq: number
  /** Work the cache owes the store (writes, lease releases, refreshes): `close()` waits for it. */
  readonly owed: Set<Promise<unknown>>
  /** What `close()` calls to give up flights still running after its wait: each stops one. */
  readonly abandon: Set<() => void>
  /** When a failed refresh of a stale entry may be tried again, by full key. */
  readonly refreshBackoff: Map<string, number>
  /** Counters of every cache of this tree, by namespace path ('' for the root). */
  readonly registry: Map<string, Counters>
  /** Invalidations and writes while factories run, so a flight never stores over a newer change. */
  readonly changes: Changes
  closed: boolean
}

/**
 * What changed while `getOrSet` factories were running, by sequence number: a flight that started
 * at `since` must not store its value if its key, one of its tags, or everything (a pattern delete,
 * `clear`) changed after `since`, since the value may have been read before that change. Recorded
 * only while a flight is in the air; forgotten when none is.
 */
export interface Changes {
  seq: number
  all: number
  readonly keys: Map<string, number>
  readonly tags: Map<string, number>
}

/** Records a write or invalidation of `full` keys, of tags, or (neither given) of anything. */
export function noteChange(
  shared: Shared,
  fulls: readonly string[] | undefined,
  tags?: readonly string[] | undefined,
): void {
  if (shared.inflight.size === 0) return
  const changes = shared.changes
  const seq = ++changes.seq
  if (fulls === undefined && tags === undefined) changes.all = seq
  if (fulls !== undefined) for (const full of fulls) changes.keys.set(full, seq)
  if (tags !== undefined) for (const tag of tags) changes.tags.set(tag, seq)
}

/** True when `full`, one of `tags`, or everything changed after `since`. */
export function changedSince(
  shared: Shared,
  full: string,
  tags: readonly string[] | undefined,
  since: number,
): boolean {
  const changes = shared.changes
  if (changes.all > since || (changes.keys.get(full) ?? 0) > since) return true
  return tags?.some((tag) => (changes.tags.get(tag) ?? 0) > since) === true
}

/** Forgets recorded changes once no flight needs them. */
export function forgetChanges(shared: Shared): void {
  if (shared.inflight.size > 0) return
  shared.changes.keys.clear()
  shared.changes.tags.clear()
}

/** One factory call of `getOrSet` and the callers waiting on it. */
export interface Flight {
  readonly promise: Promise<unknown>
  /** Resolves when the flight is given up (past its hard timeout, or at close); it may still finish. */
  readonly abandoned: Promise<void>
}

/** Tracks work `close()` must wait for; returns it unchanged. */
export function owe<T>(shared: Shared, work: Promise<T>): Promise<T> {
  shared.owed.add(work)
  const settled = () => shared.owed.delete(work)
  work.then(settled, settled)
  return work
}

/** The outcome of one read, before statistics: fresh, stale (inside grace) or missing. */
export type Read =
  | { readonly state: 'fresh'; readonly value: unknown }
  | { readonly state: 'stale'; readonly value: unknown }
  | { readonly state: 'miss' }

export const MISS: Read = Object.freeze({ state: 'miss' })

/** Turns what a store returned into a {@link Read}; throws the codec's error for a corrupt entry. */
export function interpret(shared: Shared, raw: unknown): Read {
  if (raw === undefined) return MISS
  let value = shared.codec ? shared.codec.decode(raw as Uint8Array) : raw
  let state: 'fresh' | 'stale' = 'fresh'
  if (value instanceof Envelope) {
    if (shared.clock.now() >= value.staleAt) state = 'stale'
    value = value.value
  }
  return { state, value: value === UNDEFINED ? undefined : value }
}

/** Prepares a value for the store: encoded for byte stores, `undefined` made storable for memory. */
export function toStored(shared: Shared, value: unknown): unknown {
  if (shared.codec) return shared.codec.encode(value)
  if (value === undefined) return UNDEFINED
  if (value instanceof Envelope && value.value === undefined)
    return new Envelope(UNDEFINED, value.staleAt, value.tags)
  return value
}
