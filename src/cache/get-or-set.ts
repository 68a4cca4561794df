import { randomUUID } from 'node:crypto'
import { Envelope } from '../codec/value.js'
import { FactoryTimeoutError, InvalidOptionError, InvalidTtlError, withKey } from '../errors.js'
import { type Duration, durationToMs, requireDuration, type Ttl } from '../internal/duration.js'
import type { StoreLeases } from '../stores/types.js'
import type { CacheContext } from './context.js'
import type { Read } from './shared.js'

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
   * long a lease lasts without renewal (it is renewed while the factory runs). Default on, with
   * `{ ttl: '10s' }`; `false` keeps single flight inside each process.
   */
  readonly lease?: { readonly ttl?: Duration } | false
  /** Hard timeout, with no stale value: reject with {@link FactoryTimeoutError} after this long. The factory still finishes and its value is still stored. */
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

export type Factory<T> = (ctx: FactoryContext<T>) => T | Promise<T>

/** The parts of a cache that `getOrSet` works with. */
type CacheInternals = CacheContext

interface Plan {
  /** Lease TTL in ms, or undefined for per-process single flight only. */
  readonly lease: number | undefined
  readonly ttl: number | null
  readonly tags: readonly string[] | undefined
  readonly grace: number
  readonly graceBackoff: number
  readonly timeout: number
  readonly hardTimeout: number | undefined
}

const noop = () => {}
/** Failed refreshes remembered for `graceBackoff`; beyond this many, the oldest are forgotten. */
const MAX_BACKOFFS = 10_000
const EMPTY: GetOrSetOptions<never> = Object.freeze({})
const DURATIONS = ['grace', 'graceBackoff', 'timeout', 'hardTimeout'] as const

function checkOptions(options: GetOrSetOptions<unknown>, key: string): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('getOrSet options must be an object', { key })
  }
  for (const name of DURATIONS) if (options[name] !== undefined) requireDuration(options[name], name)
  if (options.ttl !== undefined && options.ttl !== null && durationToMs(options.ttl) === undefined) {
    throw new InvalidTtlError(
      `Invalid TTL ${JSON.stringify(options.ttl)} for getOrSet: use ms, '5m' or null`,
      { key },
    )
  }
}

export async function getOrSet<T>(
  cache: CacheInternals,
  key: string,
  factory: Factory<T>,
  options: GetOrSetOptions<T> = EMPTY,
): Promise<T> {
  const full = cache.full(key)
  if (typeof factory !== 'function') {
    throw new InvalidOptionError('getOrSet needs a factory function that produces the value', { key })
  }
  // Options are checked on every call, but resolved into a plan only when the factory may run:
  // a hit is the hot path.
  if (options !== EMPTY) checkOptions(options, key)
  const pending = cache.read(key)
  const read = pending instanceof Promise ? await pending : pending
  if (read.state === 'fresh') {
    cache.counters.hits++
    cache.publish('hit', key)
    return read.value as T
  }
  const plan = resolvePlan(cache, key, options)
  cache.counters.misses++
  cache.publish('miss', key)
  const { inflight, refreshBackoff, clock } = cache.shared
  let flight = inflight.get(full) as Promise<T> | undefined
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
    const outcome = await settleWithin(flight, plan.timeout)
    return outcome.status === 'fulfilled' ? outcome.value : serveStale(cache, key, stale)
  }

  flight ??= start(cache, key, full, factory, plan, read)
  if (plan.hardTimeout === undefined) return flight
  const outcome = await settleWithin(flight, plan.hardTimeout)
  if (outcome.status === 'fulfilled') return outcome.value
  if (outcome.status === 'rejected') throw outcome.reason
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
): Promise<T> {
  const { inflight, refreshBackoff, clock } = cache.shared
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
  const compute = async (): Promise<T> => {
    cache.counters.factoryCalls++
    const started = clock.now()
    let value: T
    try {
      value = await factory(ctx)
    } catch (error) {
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
    cache.publish('factory', key, { durationMs: clock.now() - started })
    refreshBackoff.delete(full)
    if (ttl !== 0) {
      const graced = plan.grace > 0 && ttl !== null
      const stored = graced ? new Envelope(value, clock.now() + (ttl as number)) : value
      try {
        await cache.write(key, full, stored, graced ? (ttl as number) + plan.grace : ttl, tags)
      } catch (error) {
        // The caller asked for a value and has one; a store that cannot take it is counted, not thrown.
        if (isCallerError(error)) throw withKey(error, key)
        cache.recordError('set', key, error)
      }
    }
    return value
  }
  const leases = plan.lease === undefined ? undefined : cache.shared.store.leases?.()
  const flight = leases ? acrossProcesses(cache, key, full, leases, plan.lease as number, compute) : compute()
  inflight.set(full, flight)
  const done = () => {
    if (inflight.get(full) === flight) inflight.delete(full)
  }
  flight.then(done, done)
  return flight
}

/**
 * Single flight across processes: take the key's lease and compute, or wait for the holder's word
 * and read what it stored. A holder that fails or vanishes leaves no value: try again (a few
 * times), then compute here. A store that cannot lease (Redis down) leaves per-process single
 * flight, which the caller already has.
 */
async function acrossProcesses<T>(
  cache: CacheInternals,
  key: string,
  full: string,
  leases: StoreLeases,
  leaseTtl: number,
  compute: () => Promise<T>,
): Promise<T> {
  const token = randomUUID()
  for (let attempt = 0; attempt < 3; attempt++) {
    let acquired: boolean
    try {
      acquired = await leases.acquire(full, token, leaseTtl)
    } catch (error) {
      cache.recordError('lease', key, error)
      return compute()
    }
    if (acquired) {
      const renewal = setInterval(() => leases.renew(full, token, leaseTtl).catch(noop), leaseTtl / 3)
      renewal.unref()
      try {
        return await compute()
      } finally {
        clearInterval(renewal)
        leases.release(full, token).catch(noop)
      }
    }
    const waiting = leases.wait(full, leaseTtl)
    const early = await readFresh(cache, key)
    if (early) {
      waiting.cancel()
      return early.value as T
    }
    await waiting.done
    const filled = await readFresh(cache, key)
    if (filled) {
      cache.counters.coalesced++
      cache.publish('coalesce', key)
      return filled.value as T
    }
  }
  return compute()
}

async function readFresh(cache: CacheInternals, key: string): Promise<{ value: unknown } | undefined> {
  try {
    const read = await cache.read(key)
    return read.state === 'fresh' ? read : undefined
  } catch {
    return undefined
  }
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

/** Waits for a promise at most `ms` (0: not at all), without leaving an unhandled rejection behind. */
function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  promise.catch(noop)
  if (ms <= 0) return Promise.resolve({ status: 'timeout' })
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: 'timeout' }), ms)
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
    merged[name] === undefined ? fallback : requireDuration(merged[name], name)
  const hardTimeout = merged.hardTimeout === undefined ? undefined : duration('hardTimeout', 0)
  const lease = merged.lease === false ? undefined : requireDuration(merged.lease?.ttl ?? 10_000, 'lease.ttl')
  return {
    lease: lease === undefined || lease <= 0 ? undefined : lease,
    ttl: cache.ttl(options.ttl, key),
    tags: cache.tags(options.tags, key),
    grace: duration('grace', 0),
    graceBackoff: duration('graceBackoff', 5000),
    timeout: duration('timeout', 0),
    hardTimeout,
  }
}

/** Errors that mean the value itself is bad (not the store): they must reach the caller. */
function isCallerError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'E_VALUE_NOT_ENCODABLE' || code === 'E_VALUE_CIRCULAR' || code === 'E_VALUE_TOO_LARGE'
}
