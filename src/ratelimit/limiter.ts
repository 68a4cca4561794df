import { randomUUID } from 'node:crypto'
import { CacheClosedError, InvalidOptionError } from '../errors.js'
import { type Clock, type Duration, describe, systemClock, wholeMs } from '../internal/index.js'
import {
  BurstLog,
  type BurstLogEvent,
  publishDegraded,
  type RateLimitEvent,
  rateLimitChannel,
} from '../observe/index.js'
import {
  type Mode,
  type PolicyOutcome,
  type PubSubChannel,
  privateStateMap,
  type RateBackend,
} from './backend.js'
import { withDeadline } from './deadline.js'
import { type DenialMessage, DenyCache, parseDenial } from './deny-cache.js'
import { checkInsurance, failurePolicyResult, fallbackName, insure } from './insurance.js'
import type { ConsumeOptions, RateLimiter, RateLimiterOptions, RateLimiterStats } from './limiter-types.js'
import { MemoryRateBackend } from './memory-backend.js'
import { RedisRateBackend } from './redis-backend.js'
import { type FailurePolicy, type RateLimitResult, summarize, uniform } from './result.js'
import { capacity, type Policy, parseRules } from './rules.js'
import { rateBackendOf, resolveRateBacking } from './sql-backend.js'
import { bounded, StartupWait } from './startup.js'
import { blockMs, checkPoints, type RateWriter } from './writer.js'

export type {
  ConsumeOptions,
  ProtectionStore,
  RateLimiter,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimitStore,
} from './limiter-types.js'
export type { FailurePolicy, PolicyResult, RateLimitResult } from './result.js'

type Backend = RateBackend & RateWriter

/** The deny-cache subscription: pending until the store connects, then its `off`. */
interface Subscription {
  readonly made: Promise<(() => Promise<void>) | undefined>
  off?: (() => Promise<void>) | undefined
}

const MAX_KEY = 1024
const CLOSE_BOUND_MS = 2000

const defaultLog = (event: BurstLogEvent): void => {
  if (event.level === 'warn') console.warn(`[cachekit/ratelimit] ${event.message}`)
}

/** Creates a rate limiter; bad rules throw {@link InvalidOptionError} naming the accepted syntax. */
export function createRateLimiter<S extends string>(options: RateLimiterOptions<S>): RateLimiter<S> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError("createRateLimiter needs options: { store, rules: { login: '5/min' } }")
  }
  return new Limiter(options)
}

class Limiter<S extends string> implements RateLimiter<S> {
  readonly scopes: readonly S[]
  readonly #rules: ReadonlyMap<string, readonly Policy[]>
  readonly #prefix: string
  readonly #backend: Backend
  readonly #shared: boolean
  readonly #local: MemoryRateBackend
  readonly #onFailure: FailurePolicy
  readonly #insurance: RateLimiter<S> | undefined
  readonly #timeoutMs: number
  readonly #pauseMs: number
  readonly #deny: DenyCache | undefined
  readonly #onError: ((error: unknown) => void) | undefined
  readonly #clock: Clock
  readonly #origin = randomUUID()
  readonly #burst: BurstLog
  readonly #startup: StartupWait | undefined
  readonly #counts = {
    decisions: 0,
    degraded: 0,
    localDecisions: 0,
    insuranceDecisions: 0,
    errors: 0,
    startupWaits: 0,
    denyCacheHits: 0,
  }
  #channel: PubSubChannel | undefined
  #pendingChannel: PubSubChannel | undefined
  #subscription: Subscription | undefined
  #downUntil = 0
  #lastError = ''
  #closing: Promise<void> | undefined
  /** Results answered by the deny cache (each a fresh object), for the channel. */
  readonly #fromDenyCache = new WeakSet<RateLimitResult>()

  constructor(options: RateLimiterOptions<S>) {
    this.#rules = parseRules(options.rules)
    this.scopes = [...this.#rules.keys()] as S[]
    this.#prefix = options.prefix ?? 'cachekit:rl'
    if (typeof this.#prefix !== 'string')
      throw new InvalidOptionError('createRateLimiter prefix must be a string')
    const onFailure = options.onFailure ?? 'local'
    if (onFailure !== 'open' && onFailure !== 'closed' && onFailure !== 'local') {
      throw new InvalidOptionError(
        `createRateLimiter onFailure must be 'open', 'closed' or 'local', got ${describe(onFailure)}`,
      )
    }
    if (options.onLog !== undefined && typeof options.onLog !== 'function') {
      throw new InvalidOptionError('createRateLimiter onLog must be a function (event) => void')
    }
    this.#onFailure = onFailure
    this.#insurance = checkInsurance(options.insurance, this.scopes)
    this.#clock = options.clock ?? systemClock
    this.#timeoutMs = wholeMs(options.timeout, 500, 'createRateLimiter timeout', { min: 1 })
    this.#pauseMs = wholeMs(options.retryAfterFailure, 1000, 'createRateLimiter retryAfterFailure')
    const connectMs = wholeMs(options.connectTimeout, '10s', 'createRateLimiter connectTimeout', { min: 1 })
    this.#onError = options.onError
    this.#burst = new BurstLog(options.onLog ?? defaultLog)
    const backing = resolveRateBacking(options.store, this.#clock)
    this.#shared = backing.kind !== 'memory'
    this.#backend = rateBackendOf(backing, this.#clock)
    this.#local =
      this.#backend instanceof MemoryRateBackend
        ? this.#backend
        : new MemoryRateBackend(privateStateMap(this.#clock), this.#clock)
    this.#deny = this.#shared && (options.denyCache ?? backing.kind !== 'sql') ? new DenyCache() : undefined
    if (backing.kind === 'redis') {
      // The deny channel is joined once the store has answered: a subscription attempted while it
      // connects would only retry (and, if it never connects, outlive close()).
      if (this.#deny && backing.channel) this.#pendingChannel = backing.channel
      if (backing.connecting) {
        const warmer = new RedisRateBackend(backing.runner)
        const warm = () =>
          Promise.all(
            [...this.#rules.values()].map((p) => warmer.decide(`${this.#prefix}:{warm-up}`, p, 0, 'peek')),
          )
        this.#startup = new StartupWait(
          backing,
          connectMs,
          (e) => this.#failed(e),
          () => this.#joinChannel(),
          warm,
        )
      } else this.#joinChannel()
    }
  }

  #joinChannel(): void {
    const channel = this.#pendingChannel
    if (channel === undefined || this.#deny === undefined || this.#closing) return
    this.#pendingChannel = undefined
    this.#share(channel, this.#deny)
  }

  /**
   * Shares the deny cache with the other instances: each refusal this instance caches, and each
   * reset, goes out as a message; theirs come in. A lost message only costs one Redis call.
   */
  #share(channel: PubSubChannel, deny: DenyCache): void {
    this.#channel = channel
    const made = channel
      .subscribe((message) => {
        const parsed = parseDenial(message)
        if (!parsed || parsed.origin === this.#origin) return
        if (parsed.reset) deny.delete(parsed.base)
        else if (parsed.result) deny.set(parsed.base, parsed.cost, this.#clock.now(), parsed.result)
      })
      .catch((error: unknown) => {
        if (!this.#closing) this.#onError?.(error)
        return undefined
      })
    const subscription: Subscription = { made }
    made.then((off) => {
      subscription.off = off
    })
    this.#subscription = subscription
  }

  #announce(denial: Omit<DenialMessage, 'origin'>): void {
    this.#channel?.publish(JSON.stringify({ origin: this.#origin, ...denial })).catch(() => {})
  }

  /** Script calls sent to Redis, or statements to a SQL server, so far (0 for the memory backend). */
  get roundTrips(): number {
    return (this.#backend as { calls?: number }).calls ?? 0
  }

  stats(): RateLimiterStats {
    return { ...this.#counts, roundTrips: this.roundTrips }
  }

  policies(scope: S): readonly Policy[] {
    return this.#policies(scope)
  }

  async consume(scope: S, key: string, options: ConsumeOptions = {}): Promise<RateLimitResult> {
    const result = await this.#decide(scope, key, options, 'consume')
    if (rateLimitChannel.hasSubscribers) this.#publish(scope, 'consume', result)
    return result
  }

  async peek(scope: S, key: string, options: ConsumeOptions = {}): Promise<RateLimitResult> {
    const result = await this.#decide(scope, key, options, 'peek')
    if (rateLimitChannel.hasSubscribers) this.#publish(scope, 'peek', result)
    return result
  }

  #publish(scope: string, mode: Mode, result: RateLimitResult): void {
    rateLimitChannel.publish({
      type: 'ratelimit',
      prefix: this.#prefix,
      scope,
      mode,
      allowed: result.allowed,
      policies: result.policies.map((p) => ({ name: p.name, allowed: p.allowed })),
      degraded: result.degraded,
      denyCache: this.#fromDenyCache.has(result),
    } satisfies RateLimitEvent)
  }

  reset(scope: S, key: string): Promise<void> {
    return this.#write(scope, key, 'reset', (backend, base, policies) => backend.reset(base, policies))
  }

  async reward(scope: S, key: string, points = 1): Promise<void> {
    const n = -checkPoints(points, 'reward')
    return this.#write(scope, key, 'reward', (backend, base, policies) => backend.adjust(base, policies, n))
  }

  async penalty(scope: S, key: string, points = 1): Promise<void> {
    const n = checkPoints(points, 'penalty')
    return this.#write(scope, key, 'penalty', (backend, base, policies) => backend.adjust(base, policies, n))
  }

  async block(scope: S, key: string, duration: Duration): Promise<void> {
    const ms = blockMs(duration)
    const outcome = { allowed: false, remaining: 0, resetMs: ms, retryAfterMs: ms, blocked: true }
    const write = (backend: Backend, base: string) => backend.block(base, ms)
    await this.#write(scope, key, 'block', write, (policies) => uniform(policies, outcome))
  }

  /**
   * A write on `key`'s state: the cached refusal is forgotten here and on every instance (the next
   * request asks the store), or replaced by `denial`; then the in-process state and the shared
   * store are written.
   */
  async #write(
    scope: S,
    key: string,
    what: string,
    run: (backend: Backend, base: string, policies: readonly Policy[]) => Promise<void>,
    denial?: (policies: readonly Policy[]) => RateLimitResult,
  ): Promise<void> {
    this.#open()
    const policies = this.#policies(scope)
    const base = this.#base(scope, key)
    if (this.#deny) {
      const result = denial?.(policies)
      if (result) this.#deny.set(base, 0, this.#clock.now(), result)
      else this.#deny.delete(base)
      this.#announce(result ? { base, cost: 0, result } : { base, reset: true, cost: 0 })
    }
    await run(this.#local, base, policies)
    if (this.#shared) {
      await this.#startup?.pending
      this.#open()
      await withDeadline(run(this.#backend, base, policies), this.#timeoutMs, `rate limit ${what}`)
    }
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing
    this.#startup?.close()
    const subscription = this.#subscription
    // A subscription still being made (the store not connected yet) is ended when it is made;
    // close does not wait for a connection that may never come.
    if (subscription?.off) this.#closing = bounded(subscription.off(), CLOSE_BOUND_MS)
    else {
      void subscription?.made.then((off) => off?.().catch(() => {}))
      this.#closing = Promise.resolve()
    }
    return this.#closing
  }

  #open(): void {
    if (this.#closing) throw new CacheClosedError('This rate limiter was closed; create a new one')
  }

  #policies(scope: string): readonly Policy[] {
    const policies = this.#rules.get(scope)
    if (policies === undefined) {
      throw new InvalidOptionError(
        `Unknown rate limit scope ${describe(scope)}: the rules define ${[...this.#rules.keys()].map((s) => `"${s}"`).join(', ')}`,
      )
    }
    return policies
  }

  #base(scope: string, key: unknown): string {
    if (typeof key !== 'string' || key === '' || key.length > MAX_KEY) {
      throw new InvalidOptionError(
        `Rate limit key must be a non-empty string of at most ${MAX_KEY} characters, got ${describe(key)}`,
      )
    }
    // One hash tag per scope and key: every key of one decision lives in one Cluster slot.
    return `${this.#prefix}:{${scope}:${key}}`
  }

  async #decide(scope: string, key: string, options: ConsumeOptions, mode: Mode): Promise<RateLimitResult> {
    this.#open()
    const policies = this.#policies(scope)
    const base = this.#base(scope, key)
    const cost = options.cost ?? 1
    if (!Number.isSafeInteger(cost) || cost < 0) {
      throw new InvalidOptionError(`Rate limit cost must be a whole number >= 0, got ${describe(cost)}`)
    }
    const most = capacity(policies)
    if (cost > most) {
      throw new InvalidOptionError(
        `Rate limit cost ${cost} can never pass: scope "${scope}" allows at most ${most} at once`,
      )
    }
    this.#counts.decisions++
    if (!this.#shared) return summarize(policies, await this.#backend.decide(base, policies, cost, mode))
    const startup = this.#startup?.pending
    if (startup) {
      // Never decide locally while the shared store is still connecting: wait for it, once.
      this.#counts.startupWaits++
      await startup
      this.#open()
    }
    const now = this.#clock.now()
    if (mode === 'consume') {
      const cached = this.#deny?.get(base, cost, now)
      if (cached) {
        this.#counts.denyCacheHits++
        if (rateLimitChannel.hasSubscribers) this.#fromDenyCache.add(cached)
        return cached
      }
    }
    if (now < this.#downUntil) return this.#fallback(scope as S, key, cost, mode)
    let outcomes: PolicyOutcome[]
    try {
      outcomes = await withDeadline(
        this.#backend.decide(base, policies, cost, mode),
        this.#timeoutMs,
        'rate limit decision',
      )
    } catch (error) {
      this.#failed(error)
      return this.#fallback(scope as S, key, cost, mode)
    }
    this.#burst.recovered(
      (n) => `rate limiter: the shared store answers again after ${n} decisions made without it`,
    )
    if (this.#pendingChannel) this.#joinChannel()
    const result = summarize(policies, outcomes)
    if (mode === 'consume' && !result.allowed && this.#deny) {
      this.#deny.set(base, cost, this.#clock.now(), result)
      this.#announce({ base, cost, result })
    }
    return result
  }

  #failed(error: unknown): void {
    this.#counts.errors++
    this.#downUntil = this.#clock.now() + this.#pauseMs
    this.#lastError = error instanceof Error ? error.message : String(error)
    try {
      this.#onError?.(error)
    } catch {}
  }

  #fallback(scope: S, key: string, cost: number, mode: Mode): RateLimitResult | Promise<RateLimitResult> {
    this.#counts.degraded++
    const { kind, policy } = fallbackName(this.#insurance !== undefined, this.#onFailure)
    publishDegraded({ source: 'ratelimit', kind, operation: mode, reason: this.#lastError })
    this.#burst.failure(
      `rate limiter: the shared store failed (${this.#lastError}); decisions follow ${policy} until it answers, counted in stats().degraded`,
    )
    const [base, policies] = [this.#base(scope, key), this.#policies(scope)]
    if (this.#insurance === undefined) return this.#failurePolicy(base, policies, cost, mode)
    this.#counts.insuranceDecisions++ // the insurance limiter counts its own decisions too
    const failed = (error: unknown) => this.#failurePolicy(base, policies, cost, mode, error)
    return insure(this.#insurance, scope, key, cost, mode).catch(failed)
  }

  #failurePolicy(base: string, policies: readonly Policy[], cost: number, mode: Mode, error?: unknown) {
    if (error !== undefined) this.#failed(error)
    if (this.#onFailure !== 'local') return failurePolicyResult(policies, this.#onFailure)
    this.#counts.localDecisions++
    const outcomes = this.#local.decideNow(base, policies, cost, mode)
    return { ...summarize(policies, outcomes), degraded: 'local' as const }
  }
}
