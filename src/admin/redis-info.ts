import type { Cache } from '../cache/index.js'
import { type ScriptRunner, script } from '../internal/index.js'
import type { Store } from '../stores/index.js'
import { backingOf } from '../stores/index.js'
import type { RedisInspection } from '../stores/redis/index.js'

/**
 * What the admin page needs from a Redis store, recognised by its methods (never `instanceof`
 * across doors): INFO figures, SCAN, and Lua for per-key facts (TYPE, MEMORY USAGE).
 */
export interface RedisLike extends Store {
  inspect(): Promise<RedisInspection>
  scriptRunner(): ScriptRunner
}

function isRedis(store: unknown): store is RedisLike {
  const s = store as Partial<RedisLike> | null
  return typeof s?.inspect === 'function' && typeof s.scriptRunner === 'function'
}

/** The Redis store under a cache: the store itself, or the shared tier of a tiered store. */
export function redisOf(cache: Cache): RedisLike | undefined {
  const store = backingOf(cache)?.store ?? cache.store
  return isRedis(store) ? store : undefined
}

/** Keys counted per prefix: exact on a small keyspace, else estimated from a sample (and said so). */
export interface PrefixCounts {
  readonly counts: readonly { readonly prefix: string; readonly keys: number }[]
  readonly scanned: number
  readonly total: number
  readonly sampled: boolean
}

/**
 * Counts keys per prefix (the first `depth` `:`-separated parts). A keyspace of up to `limit`
 * keys is scanned whole; a bigger one is scanned for its first `limit` keys (SCAN visits the hash
 * table in an order unrelated to names, so they are a fair sample) and the counts scaled to the
 * database size. Never KEYS.
 */
export async function countPrefixes(
  store: RedisLike,
  dbSize: number,
  limit: number,
  depth: number,
): Promise<PrefixCounts> {
  const counts = new Map<string, number>()
  let scanned = 0
  for await (const key of store.keys('*')) {
    const prefix = key.split(':').slice(0, depth).join(':')
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1)
    if (++scanned >= limit) break
  }
  const sampled = scanned >= limit && dbSize > scanned
  const scale = sampled ? dbSize / scanned : 1
  const list = [...counts]
    .map(([prefix, n]) => ({ prefix, keys: Math.round(n * scale) }))
    .sort((a, b) => b.keys - a.keys || (a.prefix < b.prefix ? -1 : 1))
  return { counts: list, scanned, total: sampled ? dbSize : scanned, sampled }
}

/** TYPE and MEMORY USAGE of KEYS[1]; MEMORY may be refused (ACL), which leaves the size unknown. */
const KEY_FACTS = script(
  'admin-key-facts',
  `local t = redis.call('TYPE', KEYS[1])['ok']
local ok, size = pcall(redis.call, 'MEMORY', 'USAGE', KEYS[1])
if not ok then size = false end
return {t, size}`,
)

/** Redis's own type of a key and the memory it takes (MEMORY USAGE), in one round trip. */
export async function keyFacts(
  store: RedisLike,
  fullKey: string,
): Promise<{ readonly type: string; readonly memory: number | undefined }> {
  const reply = (await store.scriptRunner().run(KEY_FACTS, [fullKey], [])) as [unknown, unknown]
  const memory = typeof reply[1] === 'number' ? reply[1] : undefined
  return { type: String(reply[0]), memory }
}
