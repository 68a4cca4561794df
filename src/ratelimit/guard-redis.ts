import { type ScriptRunner, script } from './backend.js'
import type { GuardBackend, GuardConfig, GuardOp, GuardReply } from './guard-backend.js'

/**
 * KEYS: per lock key a hash (f failures, u locked until; -1 for ever) and a sorted set of
 * reservations (score: expiry). ARGV: op, key count, reserve ms, extend, reset on expiry, forget ms,
 * tier count, then per tier: failures, ms. Returns locked, retry ms, 0, failures, busy, then the
 * (1-based) indexes of the keys this call locked (fail) or unlocked (unlock).
 */
export const GUARD_SCRIPT = script(
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
  recs[i] = {f = f, u = u, p = redis.call('ZCARD', KEYS[2 * i]), stored = v[1] ~= false}
end
local locked, busy, retry, failures = false, false, 0, 0
local changed = {}
if op == 'unlock' then
  for i, r in ipairs(recs) do
    if isLocked(r.u) then
      changed[#changed + 1] = i
      r.u = 0
      if resetOnExpiry then r.f = 0 end
    end
  end
elseif op == 'check' then
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
      changed[#changed + 1] = i
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
  if op ~= 'unlock' or r.stored then
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
end
local l = 0
if locked then l = 1 end
local out = {l, retry, 0, failures, 0}
for _, i in ipairs(changed) do out[#out + 1] = i end
return out`,
)

/** KEYS[1] the log list; ARGV[1] the entry (JSON), ARGV[2] how many entries to keep. */
const LOG_PUSH = script(
  'cachekit-login-guard-log-push',
  `redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1`,
)

const LOG_READ = script(
  'cachekit-login-guard-log-read',
  `return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)`,
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
    if (!Array.isArray(reply) || reply.length < 5)
      throw new Error(`unexpected login guard reply ${String(reply)}`)
    const [locked, retry, , failures, busy, ...changed] = reply.map(Number) as number[]
    return {
      locked: locked === 1,
      retryMs: retry as number,
      newly: changed.map((i) => i - 1),
      failures: failures as number,
      busy: busy === 1,
    }
  }

  async pushLog(key: string, entry: string, keep: number): Promise<void> {
    await this.runner.run(LOG_PUSH, [key], [entry, keep])
  }

  async readLog(key: string, limit: number): Promise<string[]> {
    const reply = await this.runner.run(LOG_READ, [key], [limit])
    return Array.isArray(reply) ? reply.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))) : []
  }
}
