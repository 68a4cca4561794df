import { InvalidOptionError } from '../errors.js'
import { type Clock, type Script, script, systemClock } from '../internal/index.js'
import type { ProtectionStore } from '../ratelimit/index.js'
import { type Backing, resolveBacking } from '../ratelimit/internal.js'

/**
 * What `ThrottlerGuard` of `@nestjs/throttler` v6 reads back from its storage after each request
 * (the same shape as its `ThrottlerStorageRecord`). Times are whole seconds, rounded up.
 */
export interface NestThrottlerRecord {
  /** Hits counted in the current window (the refused one included when it starts a block). */
  totalHits: number
  /** Seconds until the window ends and its hits are forgotten (`X-RateLimit-Reset`). */
  timeToExpire: number
  /** The request is refused: the guard answers 429. */
  isBlocked: boolean
  /** Seconds until requests pass again (`Retry-After`); 0 when not blocked. */
  timeToBlockExpire: number
}

/** Options of {@link nestThrottlerStorage}. */
export interface NestThrottlerStorageOptions {
  /** Prepended to every key. Default `'cachekit:nest-throttler'`. */
  readonly prefix?: string
  /** Time source of the in-process (memory) state, for tests. Redis uses its own clock. */
  readonly clock?: Clock
}

/** One counter's state: hits in the window, when the window ends, when the block ends (0: none). */
type Counter = readonly [hits: number, windowEnd: number, blockEnd: number]

/** One increment's outcome in milliseconds, before the record rounds it to seconds. */
interface Step {
  readonly next: Counter
  /** How long the state matters. */
  readonly keepMs: number
  readonly totalHits: number
  readonly expireMs: number
  readonly blocked: boolean
  readonly blockMs: number
}

/**
 * One increment, as Nest's in-memory `ThrottlerStorageService` decides it, over a window that opens
 * with the first hit and closes `ttl` later (Nest keeps one expiry per hit instead: see
 * {@link CachekitThrottlerStorage}). Written twice on purpose: here for the memory store and in
 * {@link INCREMENT} for Redis, step by step alike.
 */
function step(state: readonly number[], now: number, ttl: number, limit: number, block: number): Step {
  let hits = state[0] ?? 0
  let windowEnd = state[1] ?? 0
  let blockEnd = state[2] ?? 0
  if (windowEnd <= now) {
    hits = 0
    windowEnd = now + ttl
  }
  let blocked: boolean
  let totalHits: number
  let blockMs: number
  if (block > 0) {
    // A block that has run out starts the count afresh with this hit.
    if (blockEnd > 0 && blockEnd <= now) {
      blockEnd = 0
      hits = 0
    }
    // Blocked requests are not counted; the hit past the limit is, and starts the block.
    if (blockEnd === 0) {
      hits += 1
      if (hits > limit) blockEnd = now + block
    }
    blocked = blockEnd > 0
    totalHits = hits
    blockMs = blocked ? blockEnd - now : 0
  } else {
    // No block: a request over the limit is refused and not counted, until the window ends.
    blocked = hits >= limit
    if (!blocked) hits += 1
    totalHits = blocked ? hits + 1 : hits
    blockMs = blocked ? windowEnd - now : 0
  }
  return {
    next: [hits, windowEnd, blockEnd],
    keepMs: Math.max(1, Math.max(windowEnd, blockEnd) - now),
    totalHits,
    expireMs: windowEnd - now,
    blocked,
    blockMs,
  }
}

/**
 * {@link step} in Lua, from the server's clock. KEYS[1]: the counter (`'hits windowEnd blockEnd'`).
 * ARGV: ttl ms, limit, block ms. Returns totalHits, expire ms, blocked (0|1), block ms.
 */
export const INCREMENT: Script = script(
  'cachekit-nest-throttler',
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, limit, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local hits, wend, bend = 0, 0, 0
local s = redis.call('GET', KEYS[1])
if s then
  local a = {}
  for x in string.gmatch(s, '%S+') do a[#a + 1] = tonumber(x) end
  hits, wend, bend = a[1] or 0, a[2] or 0, a[3] or 0
end
if wend <= now then
  hits = 0
  wend = now + ttl
end
local blocked, total, left
if block > 0 then
  if bend > 0 and bend <= now then
    bend = 0
    hits = 0
  end
  if bend == 0 then
    hits = hits + 1
    if hits > limit then bend = now + block end
  end
  blocked = bend > 0
  total = hits
  left = 0
  if blocked then left = bend - now end
else
  blocked = hits >= limit
  if not blocked then hits = hits + 1 end
  total = hits
  left = 0
  if blocked then
    total = hits + 1
    left = wend - now
  end
end
local keep = math.max(1, math.max(wend, bend) - now)
redis.call('SET', KEYS[1], string.format('%.17g %.17g %.17g', hits, wend, bend), 'PX', keep)
local b = 0
if blocked then b = 1 end
return {total, wend - now, b, left}`,
)

/**
 * A `ThrottlerStorage` for `@nestjs/throttler` v6 over cachekit's request-protection stores: a
 * memory store for one process, a Redis store (or a cache or tiers built on one, or a script
 * runner) for a limit shared by every instance. Give it to `ThrottlerModule.forRoot({ throttlers,
 * storage })`; it needs nothing from Nest at runtime.
 *
 * Each `increment` is one atomic step: on Redis one script call (one round trip, one key, so it
 * works on a Cluster too), decided on the server's clock. It answers as Nest's own in-memory
 * `ThrottlerStorageService` does: `limit` requests pass, the next one is counted and refused and
 * starts a block of `blockDuration` milliseconds (which the guard defaults to `ttl`) during which
 * nothing is counted, and the first request after the block starts a fresh count (with `limit: 0`
 * it starts a new block, where Nest's storage lets it through). With
 * `blockDuration: 0`, requests over the limit are refused, not counted, until the window ends.
 *
 * One difference, by design: Nest's in-memory storage remembers each hit for `ttl` (a sliding log,
 * memory in proportion to `limit`), while this storage keeps one counter per key whose window opens
 * with the first hit and closes `ttl` later, as the Redis storages for Nest do. So a client can
 * pass `limit` requests at the end of one window and `limit` more at the start of the next.
 *
 * Counters are kept per throttler name and key (`<prefix>:<throttlerName>:<key>`). A store that
 * fails makes `increment` reject, so the guard answers with an error rather than letting requests
 * through unseen.
 */
export class CachekitThrottlerStorage {
  readonly #backing: Backing
  readonly #clock: Clock
  readonly #prefix: string

  constructor(store: ProtectionStore, options: NestThrottlerStorageOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#backing = resolveBacking(store, 'The Nest throttler storage', this.#clock)
    this.#prefix = options.prefix ?? 'cachekit:nest-throttler'
  }

  /**
   * Counts one request of `key` for the throttler `throttlerName` (`ttl` and `blockDuration` in
   * milliseconds, as Nest passes them) and answers the record the guard turns into headers or a 429.
   */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<NestThrottlerRecord> {
    const ttlMs = wholeMs(ttl, 'ttl', 1)
    const blockMs = wholeMs(blockDuration, 'blockDuration', 0)
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 0) {
      throw new InvalidOptionError(`The Nest throttler limit must be a number >= 0, not ${String(limit)}`)
    }
    const id = `${this.#prefix}:${throttlerName}:${key}`
    const backing = this.#backing
    if (backing.kind === 'memory') {
      const now = Math.floor(this.#clock.now())
      const stored = backing.map.get(id)
      const s = step(Array.isArray(stored) ? stored : [], now, ttlMs, limit, blockMs)
      backing.map.set(id, s.next, s.keepMs)
      return record(s.totalHits, s.expireMs, s.blocked, s.blockMs)
    }
    const reply = await backing.runner.run(INCREMENT, [id], [ttlMs, limit, blockMs])
    if (!Array.isArray(reply) || reply.length !== 4) {
      throw new Error(`unexpected reply from the Nest throttler script: ${String(reply)}`)
    }
    return record(Number(reply[0]), Number(reply[1]), Number(reply[2]) === 1, Number(reply[3]))
  }
}

/**
 * A {@link CachekitThrottlerStorage} keeping its counters in `store`, for `ThrottlerModule`:
 *
 * ```ts
 * ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 10 }], storage: nestThrottlerStorage(redis) })
 * ```
 */
export function nestThrottlerStorage(
  store: ProtectionStore,
  options?: NestThrottlerStorageOptions,
): CachekitThrottlerStorage {
  return new CachekitThrottlerStorage(store, options)
}

function record(totalHits: number, expireMs: number, blocked: boolean, blockMs: number): NestThrottlerRecord {
  return {
    totalHits,
    timeToExpire: Math.ceil(expireMs / 1000),
    isBlocked: blocked,
    timeToBlockExpire: blocked ? Math.ceil(blockMs / 1000) : 0,
  }
}

/** Whole milliseconds (rounded up) of a number Nest passes, at least `min`. */
function wholeMs(value: number, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(
      `The Nest throttler ${what} must be a number of milliseconds >= ${min}, not ${String(value)}`,
    )
  }
  return Math.ceil(value)
}
