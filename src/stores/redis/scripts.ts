import { createHash } from 'node:crypto'
import type { RedisArg, RedisDriver } from './driver.js'

/**
 * Lua scripts, sent as EVALSHA. A server that lost its script cache (restart, failover, SCRIPT
 * FLUSH) answers NOSCRIPT; the script is then sent once with EVAL, which also caches it again, and
 * the caller never sees the error.
 */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/**
 * Runs Lua scripts on the store's Redis, under its deadline and circuit breaker (failures reject
 * with `StoreUnavailableError` whatever the store's `onError`). In Cluster, every key of one call
 * must share a hash slot (use a `{hash tag}`).
 */
export interface ScriptRunner {
  run(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>
}

/** A script with its SHA-1, ready for {@link ScriptRunner.run}. */
export function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * INCRBY, with the TTL set only when this call created the key. Refuses (and undoes) a result
 * outside JavaScript's safe integer range. KEYS[1] key; ARGV[1] delta; ARGV[2] TTL ms or ''.
 */
export const INCR = script(
  'incr',
  `local existed = redis.call('EXISTS', KEYS[1])
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > 9007199254740991 or n < -9007199254740991 then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return redis.error_reply('ERANGE increment leaves the safe integer range')
end
if existed == 0 and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`,
)

/**
 * Adds a key to tag sets and keeps each set alive as long as its longest-lived member: a new set
 * takes the entry's TTL, a shorter TTL is extended, a null TTL makes the set persistent.
 * KEYS: tag sets; ARGV[1] the member key; ARGV[2] TTL ms or '' for never.
 */
export const TAG = script(
  'tag',
  `local ttl = tonumber(ARGV[2])
for _, set in ipairs(KEYS) do
  local existed = redis.call('EXISTS', set)
  redis.call('SADD', set, ARGV[1])
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

/** Reads a tag set's members and deletes the set in one step. KEYS[1] tag set. */
export const TAKE = script(
  'take',
  `local members = redis.call('SMEMBERS', KEYS[1])
redis.call('UNLINK', KEYS[1])
return members`,
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
`

/**
 * Deletes each key whose value still has the fingerprint it had when it was tagged, so an entry
 * rewritten since without the tag survives. Returns how many were deleted. KEYS: data keys (one
 * hash slot in Cluster); ARGV[i]: the fingerprint of KEYS[i].
 */
export const DELETE_TAGGED = script(
  'delete-tagged',
  `${STABLE}local n = 0
for i, key in ipairs(KEYS) do
  local value = redis.pcall('GET', key)
  if type(value) == 'string' and fingerprint(value) == ARGV[i] then
    redis.call('UNLINK', key)
    n = n + 1
  end
end
return n`,
)

/**
 * Makes each still-tagged key stale (the codec's `staleEntry`): writes the "stale at" time into
 * its envelope, adding one if it has none, keeping its TTL; a bare integer is deleted. KEYS: data
 * keys (one slot); ARGV[1]: "stale at" as 8 bytes (float64, big-endian); ARGV[i + 1]: the
 * fingerprint of KEYS[i]. Returns how many it touched.
 */
export const EXPIRE_TAGGED = script(
  'expire-tagged',
  `${STABLE}local n = 0
local at = ARGV[1]
for i, key in ipairs(KEYS) do
  local v = redis.pcall('GET', key)
  if type(v) == 'string' and fingerprint(v) == ARGV[i + 1] then
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
