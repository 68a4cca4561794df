import diagnostics from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'

/**
 * cachekit publishes what happens on `node:diagnostics_channel`, so exporters (Prometheus,
 * OpenTelemetry, logs) subscribe without hooks in the core, and a cache with no subscriber pays
 * one boolean check per event. Every message is a {@link CacheEvent}.
 *
 * ```ts
 * import diagnostics from 'node:diagnostics_channel'
 * diagnostics.subscribe('cachekit:miss', (event) => console.log('miss', event.key))
 * ```
 */
export const CHANNELS = {
  hit: 'cachekit:hit',
  miss: 'cachekit:miss',
  set: 'cachekit:set',
  delete: 'cachekit:delete',
  error: 'cachekit:error',
  stale: 'cachekit:stale',
  coalesce: 'cachekit:coalesce',
  factory: 'cachekit:factory',
} as const

/** The kinds of cache events, one diagnostics channel each (`cachekit:hit`, `cachekit:miss`, …). */
export type CacheEventType = keyof typeof CHANNELS

/** What each diagnostics channel of a cache publishes (see `CacheEventType` for the channels). */
export interface CacheEvent {
  readonly type: CacheEventType
  /** The root cache's prefix (empty string for none). */
  readonly prefix: string
  /** The namespace path below the prefix (`'user'`, `'user:settings'`), empty for the root. */
  readonly namespace: string
  /** The key as the caller wrote it, when the event concerns one. */
  readonly key?: string | undefined
  /** For `error`: what failed. For `factory`: the error if the factory failed. */
  readonly error?: unknown
  /** For `error`: the operation that failed (`'get'`, `'set'`, `'decode'`, `'refresh'`, ...). */
  readonly operation?: string | undefined
  /** For `factory`: how long it ran, in milliseconds. */
  readonly durationMs?: number | undefined
}

export const channel = {
  hit: diagnostics.channel(CHANNELS.hit),
  miss: diagnostics.channel(CHANNELS.miss),
  set: diagnostics.channel(CHANNELS.set),
  delete: diagnostics.channel(CHANNELS.delete),
  error: diagnostics.channel(CHANNELS.error),
  stale: diagnostics.channel(CHANNELS.stale),
  coalesce: diagnostics.channel(CHANNELS.coalesce),
  factory: diagnostics.channel(CHANNELS.factory),
} satisfies Record<CacheEventType, diagnostics.Channel>

/**
 * A degraded answer: the library answered, but not the way it would with every part healthy (an
 * ignored store error, a local rate-limit decision while the shared store is out, a fallback read,
 * a wait for the first connection). Published on `cachekit:degraded`; counted by the component in
 * its `stats()`, and logged once per burst by {@link BurstLog}.
 */
export interface DegradedEvent {
  readonly type: 'degraded'
  /** The component that degraded: `'redis'`, `'sql'`, `'ratelimit'`, `'fallback'`, `'bus'`, `'leases'`... */
  readonly source: string
  /** What it did instead: `'ignored-error'`, `'local-decision'`, `'fallback-read'`, `'startup-wait'`... */
  readonly kind: string
  /** The operation concerned (`'get'`, `'consume'`...), when there is one. */
  readonly operation?: string | undefined
  /** Why, with any secret already removed. */
  readonly reason?: string | undefined
}

/** Diagnostics channel on which stores report degraded operation (an error ignored, a fallback used). */
export const DEGRADED_CHANNEL = 'cachekit:degraded'
const degradedChannel = diagnostics.channel(DEGRADED_CHANNEL)

/** Publishes a {@link DegradedEvent}; costs one boolean check when nobody listens. */
export function publishDegraded(event: Omit<DegradedEvent, 'type'>): void {
  if (degradedChannel.hasSubscribers) degradedChannel.publish({ type: 'degraded', ...event })
}

/**
 * Which tier answered: `'l1'` when the store answered at once from this process (a memory store,
 * or the L1 of a tiered cache), `'l2'` when the answer had to be awaited (Redis, SQL, or a miss in
 * L1 that went on to L2).
 */
export type Tier = 'l1' | 'l2'

/**
 * One timed cache operation, published on `cachekit:timing`. Timing is sampled: one operation in
 * {@link TIMING_SAMPLE_EVERY} is timed (in-process hits take ~100 ns, less than two clock reads),
 * so count operations with `stats()` and use these messages for latency distributions.
 */
export interface TimingEvent {
  readonly type: 'timing'
  readonly prefix: string
  readonly namespace: string
  /** `'get'`, `'getOrSet'`, or the store call (`'set'`, `'delete'`, `'getMany'`, `'incr'`...). */
  readonly operation: string
  /** Reads: `'hit'`, `'miss'` or `'stale'`; other calls: `'ok'` or `'error'`. */
  readonly result: 'hit' | 'miss' | 'stale' | 'ok' | 'error'
  readonly tier: Tier
  /** When the operation started, in `performance.now()` milliseconds. */
  readonly start: number
  readonly durationMs: number
  /** For `error`: the error's `code`, when it has one. */
  readonly errorCode?: string | undefined
}

/** Diagnostics channel on which a sample of cache operations report their duration. */
export const TIMING_CHANNEL = 'cachekit:timing'
/** One operation in this many is timed while `cachekit:timing` has subscribers. */
export const TIMING_SAMPLE_EVERY = 32
export const timingChannel = diagnostics.channel(TIMING_CHANNEL)
let timingTick = 0

/**
 * The start of an operation to time, or -1 when it is not timed (not this operation's turn in the
 * sample, or nobody listens). Costs one increment and one comparison on the operations not
 * sampled, listened to or not: the turn is counted first, as a subscribed channel's
 * `hasSubscribers` is a getter that costs more than that.
 */
export function timingStart(): number {
  if (++timingTick < TIMING_SAMPLE_EVERY) return -1
  timingTick = 0
  if (!timingChannel.hasSubscribers) return -1
  return performance.now()
}

/** Publishes the timing of an operation started with {@link timingStart} (a no-op for -1). */
export function publishTiming(
  start: number,
  prefix: string,
  namespace: string,
  operation: string,
  result: TimingEvent['result'],
  tier: Tier,
  error?: unknown,
): void {
  if (start < 0 || !timingChannel.hasSubscribers) return
  const code = (error as { code?: unknown } | undefined)?.code
  timingChannel.publish({
    type: 'timing',
    prefix,
    namespace,
    operation,
    result,
    tier,
    start,
    durationMs: performance.now() - start,
    errorCode: typeof code === 'string' ? code : undefined,
  } satisfies TimingEvent)
}

/**
 * A rate-limit decision, published on `cachekit:ratelimit` (consume and peek). Labels worth
 * counting are bounded: the scope and policy names come from the rules, never from the client.
 */
export interface RateLimitEvent {
  readonly type: 'ratelimit'
  /** The limiter's key prefix (`'cachekit:rl'` by default). */
  readonly prefix: string
  readonly scope: string
  readonly mode: 'consume' | 'peek'
  readonly allowed: boolean
  /** Each policy's part: a refused decision names the policies that refused. */
  readonly policies: readonly { readonly name: string; readonly allowed: boolean }[]
  /** Set when the shared store failed and the failure policy decided. */
  readonly degraded?: 'open' | 'closed' | 'local' | 'insurance' | undefined
  /** Answered from the deny cache, without a store round trip. */
  readonly denyCache?: boolean
}

/**
 * What a login guard did, published on `cachekit:login-guard`: `'lockout'` when a lock starts,
 * `'refused'` when `check` refuses an attempt, `'failure'` for each reported failure. `lock`
 * describes the lock (`'ip'`, `'username+ip'`, `'custom'`), never whom it locks.
 */
export interface LoginGuardEvent {
  readonly type: 'login-guard'
  readonly prefix: string
  readonly action: 'lockout' | 'refused' | 'failure'
  /** For `refused`: `'locked'`, `'busy'`, `'deny-list'` or `'full'`. For `lockout`: `'temporary'` or `'permanent'`. */
  readonly reason?: string | undefined
  readonly lock?: string | undefined
}

/**
 * What one-time codes did, published on `cachekit:one-time-code`: `'sent'` (issued), `'verified'`,
 * `'refused'` (a verify that failed: `reason` `'wrong'`, `'missing'` or `'attempts'`), and
 * `'cooldown'` (an issue refused inside the resend cooldown). Never the subject or the code.
 */
export interface OneTimeCodeEvent {
  readonly type: 'one-time-code'
  readonly prefix: string
  readonly purpose: string
  readonly action: 'sent' | 'verified' | 'refused' | 'cooldown'
  readonly reason?: 'wrong' | 'missing' | 'attempts' | undefined
}

/**
 * What the HTTP response cache did with a request, published on `cachekit:http-cache` by the
 * response-cache middleware. `route` is a route template (never a raw path); `reason` says why a
 * response was not stored or the cache was bypassed (`'set-cookie'`, `'private'`, `'too-large'`...).
 */
export interface HttpCacheEvent {
  /**
   * `hit`: served from the cache; `stale`: served stale inside grace while another request
   * refreshes; `miss`: not in the cache (the handler ran, or the caller was collapsed onto another's
   * run); `store`: a response was stored; `bypass`: the cache was not used or a response refused.
   */
  readonly type: 'hit' | 'miss' | 'stale' | 'store' | 'bypass'
  /** Why, for `bypass` (a stable token such as `set-cookie`, `private`, `authorization`, `status`). */
  readonly reason?: string | undefined
  /** The route template or the configured name; never the raw path. */
  readonly route?: string | undefined
  readonly method: string
}

/** Diagnostics channel on which rate limiters report each decision. */
export const RATE_LIMIT_CHANNEL = 'cachekit:ratelimit'
/** Diagnostics channel on which login guards report failures, lockouts and unlocks. */
export const LOGIN_GUARD_CHANNEL = 'cachekit:login-guard'
/** Diagnostics channel on which one-time codes report issues, checks and lockouts (never the code). */
export const ONE_TIME_CODE_CHANNEL = 'cachekit:one-time-code'
/** Diagnostics channel on which the HTTP response cache reports each request (hit, miss, bypass). */
export const HTTP_CACHE_CHANNEL = 'cachekit:http-cache'
export const rateLimitChannel = diagnostics.channel(RATE_LIMIT_CHANNEL)
export const loginGuardChannel = diagnostics.channel(LOGIN_GUARD_CHANNEL)
export const oneTimeCodeChannel = diagnostics.channel(ONE_TIME_CODE_CHANNEL)

/** Publishes a {@link LoginGuardEvent}; costs one boolean check when nobody listens. */
export function publishLoginGuard(event: Omit<LoginGuardEvent, 'type'>): void {
  if (loginGuardChannel.hasSubscribers) loginGuardChannel.publish({ type: 'login-guard', ...event })
}

/** Publishes a {@link OneTimeCodeEvent}; costs one boolean check when nobody listens. */
export function publishOneTimeCode(event: Omit<OneTimeCodeEvent, 'type'>): void {
  if (oneTimeCodeChannel.hasSubscribers) oneTimeCodeChannel.publish({ type: 'one-time-code', ...event })
}

/** What a {@link BurstLog} writes: one line when trouble starts, one when it ends. */
export interface BurstLogEvent {
  readonly level: 'warn' | 'info'
  readonly message: string
}

/**
 * Logs the first failure of a burst and the recovery after it, and counts what lies between, so a
 * dead server produces two log lines rather than one per call. A throwing log sink is ignored.
 */
export class BurstLog {
  #failed = 0
  readonly #log: (event: BurstLogEvent) => void

  constructor(log: (event: BurstLogEvent) => void) {
    this.#log = log
  }

  /** Failures since the burst began (0 when healthy). */
  get failed(): number {
    return this.#failed
  }

  failure(message: string): void {
    if (this.#failed++ === 0) this.#emit({ level: 'warn', message })
  }

  recovered(message: (failed: number) => string): void {
    if (this.#failed === 0) return
    const failed = this.#failed
    this.#failed = 0
    this.#emit({ level: 'info', message: message(failed) })
  }

  #emit(event: BurstLogEvent): void {
    try {
      this.#log(event)
    } catch {}
  }
}
