import { randomUUID } from 'node:crypto'
import type { Cache } from '../cache/cache.js'
import { InvalidOptionError } from '../errors.js'
import { type Clock, systemClock } from '../internal/clock.js'
import { type Duration, describe, requireDuration } from '../internal/duration.js'
import type { MemoryStore } from '../stores/memory/index.js'
import {
  type Mode,
  type PolicyOutcome,
  type PubSubChannel,
  privateStateMap,
  type RateBackend,
  resolveBacking,
  type ScriptRunner,
} from './backend.js'
import { withDeadline } from './deadline.js'
import { DenyCache } from './deny-cache.js'
import { MemoryRateBackend } from './memory-backend.js'
import { RedisRateBackend } from './redis-backend.js'
import { type Algorithm, capacity, type Policy, parseRules, type RuleSet } from './rules.js'

/**
 * What happens when the Redis store fails or misses its deadline:
 * - `'open'`: the request is allowed (the result says `degraded: 'open'`);
 * - `'closed'`: the request is refused with `retryAfterMs` 1 s;
 * - `'local'` (default): an in-process limiter with the same rules decides, per process.
 */
export type FailurePolicy = 'open' | 'closed' | 'local'

/** A cachekit MemoryStore, the cachekit Redis store (anything with `scriptRunner()`), or a {@link ScriptRunner}. */
/**
 * Where request-protection state lives: a memory store, a Redis store (anything with
 * `scriptRunner()`), a cache built on either (tiers use their shared tier), or a script runner.
 */
export type ProtectionStore = MemoryStore | ScriptRunner | { scriptRunner(): ScriptRunner } | Cache

export interface RateLimiterOptions<S extends string> {
  /** Where counters live. Default: a private in-process map. */
  readonly store?: ProtectionStore
  /** Rules by scope: `{ anon: '100/hour', api: ['10/s', '1000/day'] }`. */
  readonly rules: { readonly [K in S]: RuleSet }
  /** Prepended to every key. Default `'cachekit:rl'`. */
  readonly prefix?: string
  /** See {@link FailurePolicy}. Default `'local'`. */
  readonly onFailure?: FailurePolicy
  /** The longest a decision may wait for Redis before the failure policy applies. Default `'500ms'`. */
  readonly timeout?: Duration
  /** After a Redis failure, skip Redis for this long (straight to the failure policy). Default `'1s'`. */
  readonly retryAfterFailure?: Duration
  /**
   * Remember refusals until they expire, so blocked keys cost no Redis call. Default true. On a
   * Redis store (which has pub/sub) refusals and resets are shared with every other instance.
   */
  readonly denyCache?: boolean
  /** Called with each store failure (the request itself goes on under the failure policy). */
  readonly onError?: (error: unknown) => void
  /** Time source of the in-process backend, for tests. Redis uses its own clock. */
  readonly clock?: Clock
}

export interface ConsumeOptions {
  /** Weight of this request. Default 1; 0 reports without spending. */
  readonly cost?: number
}

/** One policy's part of a decision. */
export interface PolicyResult {
  readonly name: string
  readonly algorithm: Algorithm
  readonly limit: number
  readonly windowMs: number
  readonly allowed: boolean
  readonly remaining: number
  readonly resetMs: number
  readonly retryAfterMs: number
  /** Refused by `blockFor`. */
  readonly blocked: boolean
}

export interface RateLimitResult {
  readonly allowed: boolean
  /** The limit of the tightest policy. */
  readonly limit: number
  readonly remaining: number
  readonly resetMs: number
  /** 0 when allowed; otherwise how long until the same request could pass. */
  readonly retryAfterMs: number
  readonly policies: readonly PolicyResult[]
  /** Set when the store failed and the failure policy decided. */
  readonly degraded?: FailurePolicy
}

export interface RateLimiter<S extends string = string> {
  readonly scopes: readonly S[]
  /** Spends `cost` from every policy of `scope` for `key`, or nothing when any refuses. */
  consume(scope: S, key: string, options?: ConsumeOptions): Promise<RateLimitResult>
  /** Reports whether `cost` would pass now, spending nothing. */
  peek(scope: S, key: string, options?: ConsumeOptions): Promise<RateLimitResult>
  /** Forgets `key`'s counters and blocks in `scope`. */
  reset(scope: S, key: string): Promise<void>
  /** The parsed policies of a scope (for `RateLimit-Policy` headers). */
  policies(scope: S): readonly Policy[]
  /** Script calls sent to Redis so far (0 on the memory store): one per decision at most. */
  readonly roundTrips: number
}

const MAX_KEY = 1024

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
  readonly #backend: RateBackend
  readonly #shared: boolean
  readonly #local: MemoryRateBackend
  readonly #onFailure: FailurePolicy
  readonly #timeoutMs: number
  readonly #pauseMs: number
  readonly #deny: DenyCache | undefined
  readonly #onError: ((error: unknown) => void) | undefined
  readonly #clock: Clock
  readonly #origin = randomUUID()
  #channel: PubSubChannel | undefined
  #downUntil = 0

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
    this.#onFailure = onFailure
    this.#clock = options.clock ?? systemClock
    this.#timeoutMs = requireDuration(options.timeout ?? 500, 'timeout')
    this.#pauseMs = requireDuration(options.retryAfterFailure ?? 1000, 'retryAfterFailure')
    this.#onError = options.onError
    const backing = resolveBacking(options.store, 'createRateLimiter', this.#clock)
    this.#shared = backing.kind === 'redis'
    this.#backend =
      backing.kind === 'redis'
        ? new RedisRateBackend(backing.runner)
        : new MemoryRateBackend(backing.map, this.#clock)
    this.#local =
      this.#backend instanceof MemoryRateBackend
        ? this.#backend
        : new MemoryRateBackend(privateStateMap(this.#clock), this.#clock)
    this.#deny = this.#shared && options.denyCache !== false ? new DenyCache() : undefined
    if (this.#deny && backing.kind === 'redis' && backing.channel) this.#share(backing.channel, this.#deny)
  }

  /**
   * Shares the deny cache with the other instances: each refusal this instance caches, and each
   * reset, goes out as a message; theirs come in. A lost message only costs one Redis call.
   */
  #share(channel: PubSubChannel, deny: DenyCache): void {
    this.#channel = channel
    channel
      .subscribe((message) => {
        const parsed = parseDenial(message)
        if (!parsed || parsed.origin === this.#origin) return
        if (parsed.reset) deny.delete(parsed.base)
        else if (parsed.result) deny.set(parsed.base, parsed.cost, this.#clock.now(), parsed.result)
      })
      .catch((error: unknown) => this.#onError?.(error))
  }

  #announce(denial: Omit<DenialMessage, 'origin'>): void {
    this.#channel?.publish(JSON.stringify({ origin: this.#origin, ...denial })).catch(() => {})
  }

  /** Script calls sent to Redis so far (0 for the memory backend). */
  get roundTrips(): number {
    return this.#backend instanceof RedisRateBackend ? this.#backend.calls : 0
  }

  policies(scope: S): readonly Policy[] {
    return this.#policies(scope)
  }

  async consume(scope: S, key: string, options: ConsumeOptions = {}): Promise<RateLimitResult> {
    return this.#decide(scope, key, options, 'consume')
  }

  async peek(scope: S, key: string, options: ConsumeOptions = {}): Promise<RateLimitResult> {
    return this.#decide(scope, key, options, 'peek')
  }

  async reset(scope: S, key: string): Promise<void> {
    const policies = this.#policies(scope)
    const base = this.#base(scope, key)
    if (this.#deny) {
      this.#deny.delete(base)
      this.#announce({ base, reset: true, cost: 0 })
    }
    await this.#local.reset(base, policies)
    if (this.#shared)
      await withDeadline(this.#backend.reset(base, policies), this.#timeoutMs, 'rate limit reset')
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
    if (!this.#shared) return summarize(policies, await this.#backend.decide(base, policies, cost, mode))
    const now = this.#clock.now()
    if (mode === 'consume') {
      const cached = this.#deny?.get(base, cost, now)
      if (cached) return cached
    }
    if (now < this.#downUntil) return this.#fallback(base, policies, cost, mode)
    let outcomes: PolicyOutcome[]
    try {
      outcomes = await withDeadline(
        this.#backend.decide(base, policies, cost, mode),
        this.#timeoutMs,
        'rate limit decision',
      )
    } catch (error) {
      this.#downUntil = this.#clock.now() + this.#pauseMs
      this.#onError?.(error)
      return this.#fallback(base, policies, cost, mode)
    }
    const result = summarize(policies, outcomes)
    if (mode === 'consume' && !result.allowed && this.#deny) {
      this.#deny.set(base, cost, this.#clock.now(), result)
      this.#announce({ base, cost, result })
    }
    return result
  }

  #fallback(base: string, policies: readonly Policy[], cost: number, mode: Mode): RateLimitResult {
    if (this.#onFailure === 'local') {
      return { ...summarize(policies, this.#local.decideNow(base, policies, cost, mode)), degraded: 'local' }
    }
    const allowed = this.#onFailure === 'open'
    const outcome: PolicyOutcome = {
      allowed,
      remaining: 0,
      resetMs: allowed ? 0 : 1000,
      retryAfterMs: allowed ? 0 : 1000,
      blocked: false,
    }
    return {
      ...summarize(
        policies,
        policies.map(() => outcome),
      ),
      degraded: this.#onFailure,
    }
  }
}

interface DenialMessage {
  readonly origin: string
  readonly base: string
  readonly cost: number
  readonly reset?: true
  readonly result?: RateLimitResult
}

/** A message from another instance, or undefined for anything else on the channel. */
function parseDenial(message: string): DenialMessage | undefined {
  try {
    const value = JSON.parse(message) as Partial<DenialMessage>
    if (
      typeof value.origin !== 'string' ||
      typeof value.base !== 'string' ||
      typeof value.cost !== 'number'
    ) {
      return undefined
    }
    if (
      value.reset !== true &&
      (typeof value.result?.retryAfterMs !== 'number' || value.result.allowed !== false)
    ) {
      return undefined
    }
    return value as DenialMessage
  } catch {
    return undefined
  }
}

/** Folds per-policy outcomes into one result: the tightest policy speaks for the request. */
export function summarize(policies: readonly Policy[], outcomes: readonly PolicyOutcome[]): RateLimitResult {
  const results: PolicyResult[] = policies.map((p, i) => {
    const o = outcomes[i] as PolicyOutcome
    return {
      name: p.name,
      algorithm: p.algorithm,
      limit: p.limit,
      windowMs: p.windowMs,
      allowed: o.allowed,
      remaining: o.remaining,
      resetMs: o.resetMs,
      retryAfterMs: o.retryAfterMs,
      blocked: o.blocked,
    }
  })
  const allowed = results.every((r) => r.allowed)
  let primary = results[0] as PolicyResult
  for (const r of results) {
    if (allowed ? r.remaining < primary.remaining : r.retryAfterMs > primary.retryAfterMs) primary = r
  }
  return {
    allowed,
    limit: primary.limit,
    remaining: Math.min(...results.map((r) => r.remaining)),
    resetMs: primary.resetMs,
    retryAfterMs: allowed ? 0 : primary.retryAfterMs,
    policies: results,
  }
}
