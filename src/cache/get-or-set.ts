import { Envelope } from '../codec/index.js'
import {
  CacheClosedError,
  FactoryTimeoutError,
  InvalidOptionError,
  InvalidTtlError,
  withKey,
} from '../errors.js'
import { type Duration, durationToMs, requireTimeout, type Ttl } from '../internal/index.js'
import { timingStart } from '../observe/index.js'
import type { CacheContext } from './context.js'
import { acrossProcesses } from './leased-flight.js'
import { changedSince, type Flight, forgetChanges, owe, type Read } from './shared.js'

/** Options of `getOrSet`: TTL, tags, stale-while-revalidate and grace, and the factory timeout. */
// biome-ignore lint/correctness/noUnusedVariables: T ties the options to the factory's value type for callers.
export interface GetOrSetOptions<T> {
  /** TTL of the value the factory returns (overridable from inside it with `ctx.setTtl`). */
  readonly ttl?: Ttl
  /** Tags of the value the factory returns. */
  readonly tags?: readonly string[]
  /**
   * How long after expiry the old value may still stand in: while one refresh runs, when the
   * factory fails, and when it is slower than `timeout`. Default 0 (no grace).
   */
  readonly grace?: Duration
  /** After a failed refresh, serve the stale value without calling the factory for this long. Default `'5s'`. */
  readonly graceBackoff?: Duration
  /**
   * Soft timeout, with a stale value at hand: wait this long for the factory, then answer with the
   * stale value and let the factory finish in the background. Default 0: answer at once.
   */
  readonly timeout?: Duration
  /**
   * Single flight across processes, on stores that offer leases (Redis, and tiers over Redis):
   * one process computes a cold key while the others wait for word that it is done. `ttl` is how
   * long a lease lasts without renewal (it is renewed while the factory runs, but never past
   * `hardTimeout`). Default on, with `{ ttl: '10s' }`; `false` keeps single flight inside each
   * process. A waiter re-checks the value every 20 to 250 ms besides listening for the release.
   */
  readonly lease?: { readonly ttl?: Duration } | false
  /**
   * Hard timeout, with no stale value: reject with {@link FactoryTimeoutError} once the factory
   * has run this long (default {@link DEFAULT_HARD_TIMEOUT}, 30 s; at most 2^31 - 1 ms). The
   * factory still finishes and its value is still stored, but the flight is given up: later
   * calls start a new one, and the lease of a cross-process flight is released, so a hung
   * factory stalls other processes at most this long. Time spent waiting on another process's
   * lease does not count: that wait is bounded by the holder's own hard timeout.
   */
  readonly hardTimeout?: Duration
}

/** What a factory learns about the call, and how it can shape the entry it produces. */
export interface FactoryContext<T> {
  /** The key, as the caller wrote it. */
  readonly key: string
  /** The expired value being refreshed, if there is one inside its grace period. */
  readonly stale: T | undefined
  /** Sets the TTL of the value being produced, from what was loaded (`0`: do not store it). */
  setTtl(ttl: Ttl): void
  /** Sets the tags of the value being produced. */
  setTags(tags: readonly string[]): void
}

/** The function `getOrSet` calls on a miss; it gets a context to adjust the TTL and tags of what it returns. */
export type Factory<T> = (ctx: FactoryContext<T>) => T | Promise<T>

/** The parts of a cache that `getOrSet` works with. */
type CacheInternals = CacheContext

/** One call's resolved getOrSet options, in ms. */
export interface Plan {
  /** Lease TTL in ms, or undefined for per-process single flight only. */
  readonly lease: number | undefined
  readonly ttl: number | null
  readonly tags: readonly string[] | undefined
  readonly grace: number
  readonly graceBackoff: number
  readonly timeout: number
  readonly hardTimeout: number
}

const noop = () => {}
/** Failed refreshes remembered for `graceBackoff`; beyond this many, the oldest are forgotten. */
const MAX_BACKOFFS = 10_000
const EMPTY: GetOrSetOptions<never> = Object.freeze({})
const DURATIONS = ['grace', 'graceBackoff', 'timeout', 'hardTimeout'] as const
/**
 * Frozen options objects found valid: they cannot change, so a caller that passes the same one on
 * every call (the response cache, per request) has it checked once. Weak: they are the caller's.
 */
const checked = new WeakSet<object>()
/** Default {@link GetOrSetOptions.hardTimeout}: 30 s. */
export const DEFAULT_HARD_TIMEOUT = 30_000

function checkOptions(options: GetOrSetOptions<unknown>, key: string): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('getOrSet options must be an object', { key })
  }
  for (const name of DURATIONS) if (options[name] !== undefined) requireTimeout(options[name], name)
  if (options.lease) requireTimeout(options.lease.ttl ?? 0, 'lease.ttl')
  if (options.ttl !== undefined && options.ttl !== null && durationToMs(options.ttl) === undefined) {
    throw new InvalidTtlError(
      `Invalid TTL ${JSON.stringify(options.ttl)} for getOrSet: use ms, '5m' or null`,
      { key },
    )
  }
}

export function getOrSet<T>(
  cache: CacheInternals,
  key: string,
  factory: Factory<T>,
  options: GetOrSetOptions<T> = EMPTY,
): Promise<T> {
  const now = getOrSetNow(cache, key, factory, options)
  return now instanceof Promise ? now : Promise.resolve(now.value)
}

/**
 * {@link getOrSet}, answering at once (as `{ value }`, not through a promise) when the store gave
 * a fresh value synchronously (a memory store, or the L1 of tiers): the same reads, counts and
 * events, minus the promise. Bad input still comes back as a rejected promise, never a throw.
 */
export function getOrSetNow<T>(
  cache: CacheInternals,
  key: string,
  factory: Factory<T>,
  options: GetOrSetOptions<T> = EMPTY,
): { readonly value: T } | Promise<T> {
  let pending: Read | Promise<Read>
  let timedAt: number
  try {
    cache.check(key)
    if (typeof factory !== 'function') {
      throw new InvalidOptionError('getOrSet needs a factory function that produces the value', { key })
    }
    // Options are checked on every call, but resolved into a plan only when the factory may run:
    // a hit is the hot path.
    if (options !== EMPTY && !checked.has(options)) {
      checkOptions(options, key)
      if (Object.isFrozen(options)) checked.add(options)
    }
    timedAt = timingStart()
    pending = cache.read(key)
  } catch (error) {
    return Promise.reject(error)
  }
  if (!(pending instanceof Promise) && pending.state === 'fresh') {
    if (timedAt >= 0) cache.timed(timedAt, 'getOrSet', 'hit', 'l1')
    cache.counters.hits++
    cache.counters.l1Hits++
    cache.publish('hit', key)
    return { value: pending.value as T }
  }
  return settle(cache, key, factory, options, timedAt, pending)
}

/** The rest of {@link getOrSet}, once the read is under way: a read from a later store, or no fresh value. */
async function settle<T>(
  cache: CacheInternals,
  key: string,
  factory: Factory<T>,
  options: GetOrSetOptions<T>,
  timedAt: number,
  pending: Read | Promise<Read>,
): Promise<T> {
  const full = cache.full(key)
  const { shared } = cache
  const tier = pending instanceof Promise ? 'l2' : 'l1'
  let read: Read
  let flight: Flight | undefined
  if (pending instanceof Promise) {
    // A store that answers later may answer from before a flight's write became visible (another
    // pooled connection): a miss read while a flight was landing joins that flight.
    const readAt = ++shared.seq
    shared.reading.set(full, (shared.reading.get(full) ?? 0) + 1)
    try {
      read = await pending
    } finally {
      const landed = shared.landed.get(full)
      flight = shared.inflight.get(full) ?? (landed && landed.seq > readAt ? landed.flight : undefined)
      const left = (shared.reading.get(full) ?? 1) - 1
      if (left > 0) shared.reading.set(full, left)
      else {
        shared.reading.delete(full)
        shared.landed.delete(full)
      }
    }
  } else {
    read = pending
    flight = shared.inflight.get(full)
  }
  if (timedAt >= 0) cache.timed(timedAt, 'getOrSet', read.state === 'fresh' ? 'hit' : read.state, tier)
  if (read.state === 'fresh') {
    cache.counters.hits++
    if (tier === 'l1') cache.counters.l1Hits++
    cache.publish('hit', key)
    return read.value as T
  }
  const plan = resolvePlan(cache, key, options)
  cache.counters.misses++
  cache.publish('miss', key)
  const { refreshBackoff, clock } = shared
  const joined = flight !== undefined
  if (flight) {
    cache.counters.coalesced++
    cache.publish('coalesce', key)
  }

  if (read.state === 'stale') {
    const stale = read.value as T
    if (!flight) {
      const retryAt = refreshBackoff.get(full)
      if (retryAt !== undefined && clock.now() < retryAt) return serveStale(cache, key, stale)
      flight = start(cache, key, full, factory, plan, read)
    }
    const outcome = await settleWithin(flight.promise as Promise<T>, plan.timeout)
    return outcome.status === 'fulfilled' ? outcome.value : serveStale(cache, key, stale)
  }

  flight ??= start(cache, key, full, factory, plan, read)
  // The flight gives up at its own hard timeout (counted from when its factory starts here, not
  // while it waits on another process's lease); a caller that joined it also keeps its own.
  const outcome = await settleWithin(
    flight.promise as Promise<T>,
    joined ? plan.hardTimeout : 0,
    flight.abandoned,
  )
  if (outcome.status === 'fulfilled') return outcome.value
  if (outcome.status === 'rejected') throw outcome.reason
  if (cache.isClosed()) throw new CacheClosedError(`The cache was closed while "${key}" was being computed`)
  throw new FactoryTimeoutError(
    `The factory for "${key}" ran longer than hardTimeout (${plan.hardTimeout} ms); it goes on in the background and its value will be stored`,
    { key },
  )
}

function start<T>(
  cache: CacheInternals,
  key: string,
  full: string,
  factory: Factory<T>,
  plan: Plan,
  read: Read,
): Flight {
  const { shared } = cache
  const { inflight, refreshBackoff, clock } = shared
  let ttl = plan.ttl
  let tags = plan.tags
  const ctx: FactoryContext<T> = {
    key,
    stale: read.state === 'stale' ? (read.value as T) : undefined,
    setTtl: (next) => {
      ttl = cache.ttl(next, key)
    },
    setTags: (next) => {
      tags = cache.tags(next, key)
    },
  }
  let abandon: () => void = noop
  const abandoned = new Promise<void>((resolve) => {
    abandon = resolve
  })
  /** Called when the flight is given up: the holder's lease goes at once, so others compute. */
  let onAbandon: () => void = noop
  let timer: NodeJS.Timeout | undefined
  const giveUp = () => {
    clearTimeout(timer)
    if (inflight.get(full) === flight) inflight.delete(full)
    forgetChanges(shared)
    shared.abandon.delete(giveUp)
    // No longer owed: close() does not wait on a factory it gave up.
    shared.owed.delete(flight.promise)
    abandon()
    onAbandon()
  }
  const compute = async (): Promise<T> => {
    cache.counters.factoryCalls++
    // A change of the key or its tags after this point may be missing from what the factory reads.
    const since = shared.changes.seq
    const started = clock.now()
    timer = setTimeout(giveUp, plan.hardTimeout)
    let value: T
    try {
      value = await factory(ctx)
    } catch (error) {
      clearTimeout(timer)
      cache.counters.factoryErrors++
      cache.publish('factory', key, { error, durationMs: clock.now() - started })
      if (read.state === 'stale') {
        // Keys whose refresh failed and never ran again must not accumulate: keep the newest.
        if (refreshBackoff.size >= MAX_BACKOFFS)
          refreshBackoff.delete(refreshBackoff.keys().next().value as string)
        refreshBackoff.set(full, clock.now() + plan.graceBackoff)
      }
      throw error
    }
    clearTimeout(timer)
    cache.publish('factory', key, { durationMs: clock.now() - started })
    refreshBackoff.delete(full)
    if (ttl !== 0 && changedSince(shared, full, tags, since)) {
      // Invalidated (or rewritten) while computing: the callers get the value, the store keeps
      // the newer state. Counted, so a flight that never lands is visible.
      cache.counters.invalidatedFlights++
    } else if (ttl !== 0) {
      const graced = plan.grace > 0 && ttl !== null
      // Tags ride inside a graced entry too, so `touch` can rewrite it without losing them.
      const stored = graced ? new Envelope(value, clock.now() + (ttl as number), tags) : value
      try {
        // The flight ends only once the store has acknowledged the write (see `landed`).
        await cache.write(key, full, stored, graced ? (ttl as number) + plan.grace : ttl, tags)
      } catch (error) {
        // The caller asked for a value and has one; a store that cannot take it is counted, not thrown.
        if (isCallerError(error)) throw withKey(error, key)
        cache.recordError('set', key, error)
      }
    }
    return value
  }
  const leases = plan.lease === undefined ? undefined : shared.store.leases?.()
  const hooks = { onAbandon: (release: () => void) => (onAbandon = release) }
  const promise = leases ? acrossProcesses(cache, key, full, leases, plan, compute, hooks) : compute()
  const flight: Flight = { promise, abandoned }
  inflight.set(full, flight)
  shared.abandon.add(giveUp)
  owe(shared, promise).catch(noop)
  const landed = () => {
    shared.abandon.delete(giveUp)
    if (inflight.get(full) !== flight) return
    inflight.delete(full)
    forgetChanges(shared)
    if (shared.reading.has(full)) shared.landed.set(full, { flight, seq: ++shared.seq })
  }
  const failed = () => {
    shared.abandon.delete(giveUp)
    if (inflight.get(full) === flight) inflight.delete(full)
    forgetChanges(shared)
  }
  promise.then(landed, failed)
  return flight
}

function serveStale<T>(cache: CacheInternals, key: string, stale: T): T {
  cache.counters.staleServed++
  cache.publish('stale', key)
  return stale
}

type Outcome<T> =
  | { readonly status: 'fulfilled'; readonly value: T }
  | { readonly status: 'rejected'; readonly reason: unknown }
  | { readonly status: 'timeout' }

/**
 * Waits for a promise at most `ms` (0: no limit of its own) or until `stop` resolves, without
 * leaving an unhandled rejection behind. With neither limit, answers at once.
 */
function settleWithin<T>(promise: Promise<T>, ms: number, stop?: Promise<void>): Promise<Outcome<T>> {
  promise.catch(noop)
  if (ms <= 0 && stop === undefined) return Promise.resolve({ status: 'timeout' })
  return new Promise((resolve) => {
    const timer = ms > 0 ? setTimeout(() => resolve({ status: 'timeout' }), ms) : undefined
    stop?.then(() => resolve({ status: 'timeout' }))
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve({ status: 'fulfilled', value })
      },
      (reason) => {
        clearTimeout(timer)
        resolve({ status: 'rejected', reason })
      },
    )
  })
}

function resolvePlan(cache: CacheInternals, key: string, options: GetOrSetOptions<unknown>): Plan {
  const merged = { ...cache.defaults, ...options }
  const duration = (name: 'grace' | 'graceBackoff' | 'timeout' | 'hardTimeout', fallback: number) =>
    merged[name] === undefined ? fallback : requireTimeout(merged[name], name)
  const lease = merged.lease === false ? undefined : requireTimeout(merged.lease?.ttl ?? 10_000, 'lease.ttl')
  return {
    lease: lease === undefined || lease <= 0 ? undefined : lease,
    ttl: cache.ttl(options.ttl, key),
    tags: cache.tags(options.tags, key),
    grace: duration('grace', 0),
    graceBackoff: duration('graceBackoff', 5000),
    timeout: duration('timeout', 0),
    hardTimeout: Math.max(1, duration('hardTimeout', DEFAULT_HARD_TIMEOUT)),
  }
}

/** Errors that mean the value itself is bad (not the store): they must reach the caller. */
function isCallerError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'E_VALUE_NOT_ENCODABLE' || code === 'E_VALUE_CIRCULAR' || code === 'E_VALUE_TOO_LARGE'
}
