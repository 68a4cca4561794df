import type { Clock } from '../internal/clock.js'
import { defineScript, type ScriptRunner, type StateMap } from './backend.js'

/** How lockouts grow; `ms` -1 is a permanent lockout. Sorted by `failures`, ascending. */
export interface GuardConfig {
  readonly tiers: readonly { readonly failures: number; readonly ms: number }[]
  /** Failures are forgotten when a lockout ends (no tiers) or kept to climb the tiers. */
  readonly resetOnExpiry: boolean
  /** A failure reported during a lockout restarts it. */
  readonly extend: boolean
  /** How long a `check` reservation waits for its `fail` or `succeed`. */
  readonly reserveMs: number
  /** How long a record outlives its last failure; -1 for ever. */
  readonly forgetMs: number
}

export type GuardOp = 'check' | 'fail' | 'succeed'

export interface GuardReply {
  /** check: refused; fail: locked out after this failure. */
  readonly locked: boolean
  /** -1 means permanent. */
  readonly retryMs: number
  /** fail: this failure started a lockout. */
  readonly newlyLocked: boolean
  readonly failures: number
  /** check: refused because reservations in flight already fill the allowance. */
  readonly busy: boolean
}

/** Guard records for several lock keys, changed together in one atomic step. */
export interface GuardBackend {
  run(op: GuardOp, keys: readonly string[], config: GuardConfig): Promise<GuardReply>
}

interface GuardRecord {
  f: number
  u: number
  p: number[]
}

const threshold = (c: GuardConfig, f: number) => c.tiers.find((t) => t.failures > f)?.failures ?? f + 1
const duration = (c: GuardConfig, f: number) => {
  let ms = c.tiers[0]?.ms ?? 0
  for (const t of c.tiers) if (t.failures <= f) ms = t.ms
  return ms
}
const isLocked = (u: number, now: number) => u === -1 || u > now
const maxRetry = (a: number, b: number) => (a === -1 || b === -1 ? -1 : Math.max(a, b))

/** The guard logic in process; `GUARD_SCRIPT` is the same, step by step, in Lua. */
export class MemoryGuardBackend implements GuardBackend {
  constructor(
    readonly map: StateMap,
    readonly clock: Clock,
  ) {}

  async run(op: GuardOp, keys: readonly string[], c: GuardConfig): Promise<GuardReply> {
    const now = Math.floor(this.clock.now())
    if (op === 'succeed') {
      for (const key of keys) this.map.delete(key)
      return { locked: false, retryMs: 0, newlyLocked: false, failures: 0, busy: false }
    }
    const records = keys.map((key) => this.#load(key, now, c))
    let locked = false
    let busy = false
    let retry = 0
    let newly = false
    let failures = 0
    if (op === 'check') {
      for (const r of records) {
        if (isLocked(r.u, now)) {
          locked = true
          retry = maxRetry(retry, r.u === -1 ? -1 : r.u - now)
        } else if (r.f + r.p.length >= threshold(c, r.f)) {
          busy = true
          retry = maxRetry(retry, Math.min(...r.p) - now)
        }
        failures = Math.max(failures, r.f)
      }
      if (locked || busy) return { locked: true, retryMs: retry, newlyLocked: false, failures, busy: !locked }
      for (const r of records) r.p.push(now + c.reserveMs)
    } else {
      for (const r of records) {
        r.p.sort((a, b) => a - b).shift()
        const was = isLocked(r.u, now)
        const before = r.f
        r.f += 1
        const ms = duration(c, r.f)
        if (was) {
          if (c.extend && r.u !== -1) r.u = ms === -1 ? -1 : Math.max(r.u, now + ms)
        } else if (r.f >= threshold(c, before)) {
          r.u = ms === -1 ? -1 : now + ms
          newly = true
        }
        if (isLocked(r.u, now)) {
          locked = true
          retry = maxRetry(retry, r.u === -1 ? -1 : r.u - now)
        }
        failures = Math.max(failures, r.f)
      }
    }
    for (const [i, key] of keys.entries()) this.#save(key, records[i] as GuardRecord, now, c)
    return { locked, retryMs: retry, newlyLocked: newly, failures, busy: false }
  }

  #load(key: string, now: number, c: GuardConfig): GuardRecord {
    const stored = this.map.get(key) as GuardRecord | undefined
    let f = stored?.f ?? 0
    let u = stored?.u ?? 0
    if (u > 0 && u <= now) {
      u = 0
      if (c.resetOnExpiry) f = 0
    }
    return { f, u, p: (stored?.p ?? []).filter((x) => x > now) }
  }

  #save(key: string, r: GuardRecord, now: number, c: GuardConfig): void {
    const ttl =
      r.u === -1 || c.forgetMs === -1 ? null : Math.max(1, r.u - now, c.forgetMs, ...r.p.map((x) => x - now))
    this.map.set(key, { f: r.f, u: r.u, p: r.p }, ttl)
  }
}

/**
 * KEYS: per lock key a hash (f failures, u locked until; -1 for ever) and a sorted set of
 * reservations (score: expiry). ARGV: op, key count, reserve ms, extend, reset on expiry, forget ms,
 * tier count, then per tier: failures, ms. Returns locked, retry ms, newly locked, failures, busy.
 */
export const GUARD_SCRIPT = defineScript(
  'cachekit-login-guard',
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, n, reserve = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local extend, resetOnExpiry, forget = ARGV[4] == '1', ARGV[5] == '1', tonumber(ARGV[6])
local tiers = {}
for i = 1, tonumber(ARGV[7]) do tiers[i] = {f = tonumber(ARGV[6 + 2 * i]), ms = tonumber(ARGV[7 + 2 * i])} end
local function threshold(f)
  for _, tier in ipairs(tiers) do if tier.f > f then return tier.f end end
  return f + 1
end
local function duration(f)
  local ms = tiers[1].ms
  for _, tier in ipairs(tiers) do if tier.f <= f then ms = tier.ms end end
  return ms
end
local function isLocked(u) return u == -1 or u > now end
local function maxRetry(a, b) if a == -1 or b == -1 then return -1 end return math.max(a, b) end
if op == 'succeed' then
  for i = 1, 2 * n do redis.call('DEL', KEYS[i]) end
  return {0, 0, 0, 0, 0}
end
local recs = {}
for i = 1, n do
  local v = redis.call('HMGET', KEYS[2 * i - 1], 'f', 'u')
  local f, u = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if u > 0 and u <= now then
    u = 0
    if resetOnExpiry then f = 0 end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
  recs[i] = {f = f, u = u, p = redis.call('ZCARD', KEYS[2 * i])}
end
local locked, busy, retry, newly, failures = false, false, 0, 0, 0
if op == 'check' then
  for i, r in ipairs(recs) do
    if isLocked(r.u) then
      locked = true
      if r.u == -1 then retry = -1 else retry = maxRetry(retry, r.u - now) end
    elseif r.f + r.p >= threshold(r.f) then
      busy = true
      local first = redis.call('ZRANGE', KEYS[2 * i], 0, 0, 'WITHSCORES')
      retry = maxRetry(retry, tonumber(first[2]) - now)
    end
    failures = math.max(failures, r.f)
  end
  if locked or busy then
    local b = 0
    if not locked then b = 1 end
    return {1, retry, 0, failures, b}
  end
  for i = 1, n do
    local seq = redis.call('HINCRBY', KEYS[2 * i - 1], 's', 1)
    redis.call('ZADD', KEYS[2 * i], now + reserve, seq)
  end
else
  for i, r in ipairs(recs) do
    redis.call('ZPOPMIN', KEYS[2 * i])
    local was = isLocked(r.u)
    local before = r.f
    r.f = r.f + 1
    local ms = duration(r.f)
    if was then
      if extend and r.u ~= -1 then
        if ms == -1 then r.u = -1 else r.u = math.max(r.u, now + ms) end
      end
    elseif r.f >= threshold(before) then
      if ms == -1 then r.u = -1 else r.u = now + ms end
      newly = 1
    end
    if isLocked(r.u) then
      locked = true
      if r.u == -1 then retry = -1 else retry = maxRetry(retry, r.u - now) end
    end
    failures = math.max(failures, r.f)
  end
end
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local r = recs[i]
  redis.call('HSET', h, 'f', r.f, 'u', r.u)
  if r.u == -1 or forget == -1 then
    redis.call('PERSIST', h)
    redis.call('PERSIST', z)
  else
    local ttl = math.max(1, r.u - now, forget)
    local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
    if last[2] then ttl = math.max(ttl, tonumber(last[2]) - now) end
    redis.call('PEXPIRE', h, ttl)
    redis.call('PEXPIRE', z, ttl)
  end
end
local l = 0
if locked then l = 1 end
return {l, retry, newly, failures, 0}`,
)

export class RedisGuardBackend implements GuardBackend {
  constructor(readonly runner: ScriptRunner) {}

  async run(op: GuardOp, keys: readonly string[], c: GuardConfig): Promise<GuardReply> {
    const redisKeys = keys.flatMap((key) => [`${key}:h`, `${key}:p`])
    const args: (string | number)[] = [
      op,
      keys.length,
      c.reserveMs,
      c.extend ? 1 : 0,
      c.resetOnExpiry ? 1 : 0,
    ]
    args.push(c.forgetMs, c.tiers.length, ...c.tiers.flatMap((t) => [t.failures, t.ms]))
    const reply = await this.runner.run(GUARD_SCRIPT, redisKeys, args)
    if (!Array.isArray(reply) || reply.length !== 5)
      throw new Error(`unexpected login guard reply ${String(reply)}`)
    const [locked, retry, newly, failures, busy] = reply.map(Number) as [
      number,
      number,
      number,
      number,
      number,
    ]
    return { locked: locked === 1, retryMs: retry, newlyLocked: newly === 1, failures, busy: busy === 1 }
  }
}
