import { IMPLEMENTATIONS, LUA_HELPERS } from '../algorithms/index.js'
import { type Script, script } from '../backend.js'
import type { Algorithm } from '../rules.js'

/** A state as Redis keeps it (`'n n n'`, one number alone), and the server's clock in ms. */
export const STATE_LUA = `local function parse(s)
  if not s then return {} end
  local one = tonumber(s)
  if one then return {one} end
  local a = {}
  for x in string.gmatch(s, '%S+') do a[#a + 1] = tonumber(x) end
  return a
end
local function fmt(st)
  if #st == 1 then return string.format('%.17g', st[1]) end
  local p = {}
  for i, v in ipairs(st) do p[i] = string.format('%.17g', v) end
  return table.concat(p, ' ')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * Several requests of one scope, each with every policy, decided one after the other in one
 * round trip from the server's clock: the script is atomic, so each decision is too, and a later
 * decision of the batch sees the state an earlier one wrote. Mirrors `MemoryRateBackend.decideNow`
 * step by step for each decision.
 *
 * KEYS: per decision: per policy its state key then its block key, then the key's manual block.
 * ARGV: policy count n, decision count d, per policy: algorithm code, limit, window ms, burst,
 * block ms; then per decision: mode ('c' consume | 'p' peek), cost.
 * Returns per decision, per policy: allowed, remaining, resetMs, retryAfterMs, blocked.
 */
const BODY = `
local n = tonumber(ARGV[1])
local d = tonumber(ARGV[2])
local P = {}
for i = 1, n do
  local a = 2 + (i - 1) * 5
  P[i] = {code = ARGV[a + 1], limit = tonumber(ARGV[a + 2]), window = tonumber(ARGV[a + 3]),
    burst = tonumber(ARGV[a + 4]), block = tonumber(ARGV[a + 5])}
end
local out = {}
local o = 0
local av = 2 + n * 5
for j = 0, d - 1 do
  local mode = ARGV[av + 1]
  local cost = tonumber(ARGV[av + 2])
  av = av + 2
  local kb = j * (2 * n + 1)
  local held = redis.call('PTTL', KEYS[kb + 2 * n + 1])
  if held > 0 then
    for i = 1, n do
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = 0, 0, held, held, 1
      o = o + 5
    end
  else
    local steps = {}
    local all = true
    for i = 1, n do
      local p = P[i]
      local s = {}
      local left = -2
      if p.block > 0 then left = redis.call('PTTL', KEYS[kb + 2 * i]) end
      if left > 0 then
        s.blocked = left
        all = false
      else
        s.st = parse(redis.call('GET', KEYS[kb + 2 * i - 1]))
        s.ok, s.rem, s.reset, s.wait, s.nxt, s.ttl = ALG[p.code](s.st, now, cost, p.limit, p.window, p.burst)
        if s.ok == 0 then all = false end
      end
      steps[i] = s
    end
    for i = 1, n do
      local p, s = P[i], steps[i]
      local a, b, c, e, f
      if s.blocked then
        a, b, c, e, f = 0, 0, s.blocked, s.blocked, 1
      elseif mode == 'c' and all then
        if cost > 0 then redis.call('SET', KEYS[kb + 2 * i - 1], fmt(s.nxt), 'PX', math.max(1, s.ttl)) end
        a, b, c, e, f = 1, s.rem, s.reset, 0, 0
      elseif mode == 'c' and s.ok == 0 and p.block > 0 then
        redis.call('SET', KEYS[kb + 2 * i], '1', 'PX', p.block)
        local wait = math.max(s.wait, p.block)
        a, b, c, e, f = 0, s.rem, math.max(s.reset, wait), wait, 1
      else
        local _, rem, reset = ALG[p.code](s.st, now, 0, p.limit, p.window, p.burst)
        a, b, c, e, f = s.ok, rem, reset, s.wait, 0
      end
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = a, b, c, e, f
      o = o + 5
    end
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
  const name = `cachekit-ratelimit-batch-${used.join('+')}`
  let made = scripts.get(name)
  if (!made) {
    const lua = used.map((algorithm) => IMPLEMENTATIONS[algorithm].lua)
    made = script(name, [LUA_HELPERS, ...lua, STATE_LUA, BODY].join('\n'))
    scripts.set(name, made)
  }
  return made
}
