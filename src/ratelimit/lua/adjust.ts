import { IMPLEMENTATIONS, LUA_HELPERS } from '../algorithms/index.js'
import { type Script, script } from '../backend.js'
import type { Algorithm } from '../rules.js'
import { STATE_LUA } from './rate.js'

/**
 * A reward or a penalty on every policy of one key, in one atomic call from the server's clock.
 * Mirrors `MemoryRateBackend.adjustNow`.
 *
 * KEYS: per policy, its state key. ARGV: policy count n, points (> 0 a penalty, < 0 a reward),
 * then per policy: algorithm code, limit, window ms, burst.
 */
const BODY = `
local n = tonumber(ARGV[1])
local points = tonumber(ARGV[2])
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local nxt, ttl = ADJ[ARGV[a + 1]](parse(redis.call('GET', KEYS[i])), now, points,
    tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]))
  if ttl > 0 then
    redis.call('SET', KEYS[i], fmt(nxt), 'PX', math.ceil(ttl))
  else
    redis.call('DEL', KEYS[i])
  end
end
return n`

const scripts = new Map<string, Script>()

/** The adjust script for a set of algorithms, made once per combination (see `rateScript`). */
export function adjustScript(algorithms: Iterable<Algorithm>): Script {
  const used = [...new Set(algorithms)].sort()
  const name = `cachekit-ratelimit-adjust-${used.join('+')}`
  let made = scripts.get(name)
  if (!made) {
    const lua = used.map((algorithm) => IMPLEMENTATIONS[algorithm].adjustLua)
    made = script(name, [LUA_HELPERS, ...lua, STATE_LUA, BODY].join('\n'))
    scripts.set(name, made)
  }
  return made
}
