import { type Script, script } from '../../internal/index.js'
import type { RedisArg, RedisDriver } from './driver.js'

// One script type and runner for the whole library: the rate limiter's scripts run through the
// store's runner under its deadline and circuit breaker (failures reject with
// `StoreUnavailableError` whatever the store's `onError`).
export { type Script, type ScriptRunner, script } from '../../internal/index.js'

/**
 * INCRBY, with the TTL set only when this call created the key. Refuses (and undoes) a result
 * outside JavaScript's safe integer range. A tagged counter's counter key (see bookkeeping.ts)
 * follows the new value while it still matches the old one, and is dropped once something else
 * rewrote the counter. KEYS[1] key; KEYS[2] its counter key (optional); ARGV[1] delta; ARGV[2]
 * TTL ms or ''.
 */
export const INCR = script(
  'incr',
  `local old = redis.call('GET', KEYS[1])
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > 9007199254740991 or n < -9007199254740991 then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return redis.error_reply('ERANGE increment leaves the safe integer range')
end
if not old and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if KEYS[2] then
  local mark = redis.call('GET', KEYS[2])
  if mark then
    local sep = string.find(mark, ':', 1, true)
    if old and sep and string.sub(mark, sep + 1) == old then
      redis.call('SET', KEYS[2], string.sub(mark, 1, sep) .. redis.call('GET', KEYS[1]))
      local left = redis.call('PTTL', KEYS[1])
      if left > 0 then redis.call('PEXPIRE', KEYS[2], left) end
    else
      redis.call('DEL', KEYS[2])
    end
  end
end
return n`,
)

/**
 * Records a key in tag sets (hashes: field = key, value = fingerprint, so a rewrite replaces its own
 * field) and keeps each set alive as long as its longest-lived member: a new set takes the entry's
 * TTL, a shorter TTL is extended, a null TTL makes the set persistent. A set left by an older
 * version (a Redis set of `<fingerprint><key>`) is converted first.
 * KEYS: tag sets; ARGV[1] the key; ARGV[2] its fingerprint; ARGV[3] TTL ms or '' for never.
 */
export const TAG = script(
  'tag',
  `local ttl = tonumber(ARGV[3])
for _, set in ipairs(KEYS) do
  if redis.call('TYPE', set)['ok'] == 'set' then
    local left = redis.call('PTTL', set)
    local members = redis.call('SMEMBERS', set)
    redis.call('DEL', set)
    for _, m in ipairs(members) do redis.call('HSET', set, string.sub(m, 17), string.sub(m, 1, 16)) end
    if left > 0 then redis.call('PEXPIRE', set, left) end
  end
  local existed = redis.call('EXISTS', set)
  redis.call('HSET', set, ARGV[1], ARGV[2])
  if ttl == nil then
    redis.call('PERSIST', set)
  elseif existed == 0 then
    redis.call('PEXPIRE', set, ttl)
  else
    local left = redis.call('PTTL', set)
    if left >= 0 and left < ttl then redis.call('PEXPIRE', set, ttl) end
  end
end
return 1`,
)

/**
 * A tag set's entries as a flat `key, fingerprint, ...` list (hash, or an older version's set);
 * with ARGV[1] = 'take' the set is deleted in the same step. KEYS[1] tag set.
 */
export const MEMBERS = script(
  'tag-members',
  `local kind = redis.call('TYPE', KEYS[1])['ok']
local out = {}
if kind == 'hash' then
  out = redis.call('HGETALL', KEYS[1])
elseif kind == 'set' then
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    table.insert(out, string.sub(m, 17))
    table.insert(out, string.sub(m, 1, 16))
  end
end
if ARGV[1] == 'take' and kind ~= 'none' then redis.call('UNLINK', KEYS[1]) end
return out`,
)

/**
 * Lua twins of the codec's `stablePart` (an entry without its "stale at" time, 0xC1 header byte
 * and envelope flag 4) and of bookkeeping's `fingerprint` over it.
 */
const STABLE = `local function stable(v)
  if #v >= 11 and string.byte(v, 1) == 193 then
    local f = string.byte(v, 3)
    if f % 8 >= 4 then return string.sub(v, 1, 2) .. string.char(f - 4) .. string.sub(v, 12) end
  end
  return v
end
local function fingerprint(v) return string.sub(redis.sha1hex(stable(v)), 1, 16) end
local function tagged(v, mark, counter, key)
  if fingerprint(v) == mark then return true end
  if counter == key then return false end
  return redis.call('GET', counter) == mark .. ':' .. v
end
`

/**
 * Deletes each key whose value still has the fingerprint it had when it was tagged (or, for a
 * counter, whose counter key says `incr` alone changed it since), so an entry rewritten since
 * without the tag survives. Returns how many were deleted. KEYS: pairs of data key and counter key
 * (the data key again when it has none; one hash slot in Cluster); ARGV[i]: the fingerprint of pair i.
 */
export const DELETE_TAGGED = script(
  'delete-tagged',
  `${STABLE}local n = 0
for i = 1, #KEYS, 2 do
  local key, counter = KEYS[i], KEYS[i + 1]
  local value = redis.pcall('GET', key)
  if type(value) == 'string' and tagged(value, ARGV[(i + 1) / 2], counter, key) then
    redis.call('UNLINK', key)
    if counter ~= key then redis.call('UNLINK', counter) end
    n = n + 1
  end
end
return n`,
)

/**
 * Makes each still-tagged key stale (the codec's `staleEntry`): writes the "stale at" time into
 * its envelope, adding one if it has none, keeping its TTL; a bare integer is deleted. KEYS: pairs
 * as for DELETE_TAGGED; ARGV[1]: "stale at" as 8 bytes (float64, big-endian); ARGV[i + 1]: the
 * fingerprint of pair i. Returns how many it touched.
 */
export const EXPIRE_TAGGED = script(
  'expire-tagged',
  `${STABLE}local n = 0
local at = ARGV[1]
for i = 1, #KEYS, 2 do
  local key, counter = KEYS[i], KEYS[i + 1]
  local v = redis.pcall('GET', key)
  if type(v) == 'string' and tagged(v, ARGV[(i + 1) / 2 + 1], counter, key) then
    n = n + 1
    if #v >= 3 and string.byte(v, 1) == 193 then
      local f = string.byte(v, 3)
      if f % 8 >= 4 then
        if #v >= 11 and string.sub(v, 4, 11) > at then
          redis.call('SET', key, string.sub(v, 1, 3) .. at .. string.sub(v, 12), 'KEEPTTL')
        end
      else
        redis.call('SET', key, string.sub(v, 1, 2) .. string.char(f + 4) .. at .. string.sub(v, 4), 'KEEPTTL')
      end
    else
      redis.call('UNLINK', key)
      if counter ~= key then redis.call('UNLINK', counter) end
    end
  end
end
return n`,
)

/** Runs `script` by EVALSHA, falling back to EVAL on NOSCRIPT. `keys[0]` routes it in Cluster. */
export async function runScript(
  driver: RedisDriver,
  s: Script,
  keys: readonly RedisArg[],
  args: readonly RedisArg[],
): Promise<unknown> {
  const route = keys[0]
  try {
    return await driver.send(['EVALSHA', s.sha, String(keys.length), ...keys, ...args], route)
  } catch (error) {
    if (!isNoScript(error)) throw error
    return driver.send(['EVAL', s.source, String(keys.length), ...keys, ...args], route)
  }
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
