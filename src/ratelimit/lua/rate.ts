import { IMPLEMENTATIONS } from '../algorithms/index.js'
import { LUA_HELPERS } from '../algorithms/types.js'
import { type Script, script } from '../backend.js'
import type { Algorithm } from '../rules.js'

/**
 * Every policy of one request, decided in one round trip from the server's clock. Mirrors
 * `MemoryRateBackend.decideNow` step by step.
 *
 * KEYS: per policy, its state key then its block key (one hash tag).
 * ARGV: mode ('c' consume | 'p' peek), cost, policy count, then per policy: algorithm code, limit,
 * window ms, burst, block ms.
 * Returns per policy: allowed, remaining, resetMs, retryAfterMs, blocked.
 */
const BODY = `
local function parse(s)
  local a = {}
  if s then for x in string.gmatch(s, '%S+') do a[#a + 1] = tonumber(x) end end
  return a
end
local function fmt(st)
  local p = {}
  for i, v in ipairs(st) do p[i] = string.format('%.17g', v) end
  return table.concat(p, ' ')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode = ARGV[1]
local cost = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local steps = {}
local all = true
for i = 1, n do
  local a = 3 + (i - 1) * 5
  local p = {code = ARGV[a + 1], limit = tonumber(ARGV[a + 2]), window = tonumber(ARGV[a + 3]),
    burst = tonumber(ARGV[a + 4]), block = tonumber(ARGV[a + 5])}
  local left = -2
  if p.block > 0 then left = redis.call('PTTL', KEYS[2 * i]) end
  if left > 0 then
    p.blocked = left
    all = false
  else
    p.st = parse(redis.call('GET', KEYS[2 * i - 1]))
    local ok, rem, reset, wait, nxt, ttl = ALG[p.code](p.st, now, cost, p.limit, p.window, p.burst)
    p.ok, p.rem, p.reset, p.wait, p.nxt, p.ttl = ok, rem, reset, wait, nxt, ttl
    if ok == 0 then all = false end
  end
  steps[i] = p
end
local out = {}
for i = 1, n do
  local p = steps[i]
  if p.blocked then
    for _, v in ipairs({0, 0, p.blocked, p.blocked, 1}) do out[#out + 1] = v end
  elseif mode == 'c' and all then
    if cost > 0 then redis.call('SET', KEYS[2 * i - 1], fmt(p.nxt), 'PX', math.max(1, p.ttl)) end
    for _, v in ipairs({1, p.rem, p.reset, 0, 0}) do out[#out + 1] = v end
  elseif mode == 'c' and p.ok == 0 and p.block > 0 then
    redis.call('SET', KEYS[2 * i], '1', 'PX', p.block)
    local wait = math.max(p.wait, p.block)
    for _, v in ipairs({0, p.rem, math.max(p.reset, wait), wait, 1}) do out[#out + 1] = v end
  else
    local _, rem, reset = ALG[p.code](p.st, now, 0, p.limit, p.window, p.burst)
    for _, v in ipairs({p.ok, rem, reset, p.wait, 0}) do out[#out + 1] = v end
  end
end
return out`

const scripts = new Map<string, Script>()

/**
 * The script for a set of algorithms, with only their Lua in it: Redis runs a script's top level
 * on every call, so defining all four algorithms for a one-algorithm limiter costs server time on
 * every decision. One script per combination, made once.
 */
export function rateScript(algorithms: Iterable<Algorithm>): Script {
  const used = [...new Set(algorithms)].sort()
  const name = `cachekit-ratelimit-${used.join('+')}`
  let made = scripts.get(name)
  if (!made) {
    const lua = used.map((algorithm) => IMPLEMENTATIONS[algorithm].lua)
    made = script(name, [LUA_HELPERS, ...lua, BODY].join('\n'))
    scripts.set(name, made)
  }
  return made
}
