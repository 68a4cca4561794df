import { type ScriptRunner, script } from '../stores/redis/index.js'
import type { SessionBackend, StoredSession, WriteOutcome } from './backend.js'

// A session is one Redis hash: data fields under `f:<name>` (JSON text), `~t` last write or touch
// (epoch ms), `~u` the user hash, `~i` when the user's index last heard of it, and `~d` alone when it is a tombstone. One key per session keeps
// every step a single-key script, so it runs unchanged on Cluster.

const LOAD = script('session-load', `return redis.call('HGETALL', KEYS[1])`)

/**
 * ARGV: mode ('merge' | 'create'), now, ttl, user hash ('' keep, '-' clear), '1' when indexed now else '', count
 * of fields to set, then field/value pairs, then fields to remove. 0 = tombstone, -1 = merge met no record, 1 = written.
 */
const WRITE = script(
  'session-write',
  `if redis.call('HEXISTS', KEYS[1], '~d') == 1 then return 0 end
if ARGV[1] == 'merge' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
else
  redis.call('DEL', KEYS[1])
end
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  i = i + 1
end
redis.call('HSET', KEYS[1], '~t', ARGV[2])
if ARGV[4] == '-' then
  redis.call('HDEL', KEYS[1], '~u')
elseif ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], '~u', ARGV[4])
end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], '~i', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,
)

/** ARGV: now, ttl, '1' when indexed now else '', then field/value pairs. Same answers as WRITE. */
const TOUCH = script(
  'session-touch',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[1], '~d') == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], '~t', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], '~i', ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
)

/** ARGV: tombstone ttl. Answers the user hash the session had, or ''. */
const DESTROY = script(
  'session-destroy',
  `local user = ''
if redis.call('HEXISTS', KEYS[1], '~d') == 0 then user = redis.call('HGET', KEYS[1], '~u') or '' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '~d', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return user`,
)

/**
 * A user's index: a sorted set of session hashes scored by their last activity. Members idle for
 * longer than the TTL belong to expired sessions and are dropped; the set lives as long as its
 * freshest member. ARGV: member, now, ttl.
 */
const INDEX_ADD = script(
  'session-index-add',
  `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,
)

/** ARGV: now, ttl. */
const INDEX_LIST = script(
  'session-index-list',
  `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
return redis.call('ZRANGE', KEYS[1], 0, -1)`,
)

const INDEX_REMOVE = script('session-index-remove', `return redis.call('ZREM', KEYS[1], unpack(ARGV))`)

const OUTCOME: Record<string, WriteOutcome> = { '0': 'destroyed', '-1': 'missing', '1': 'written' }

/** Sessions on Redis: every step one script on one key, under the store's deadline and breaker. */
export function redisBackend(runner: ScriptRunner): SessionBackend {
  const outcome = (reply: unknown): WriteOutcome => OUTCOME[text(reply)] ?? 'written'
  return {
    async load(key) {
      const reply = (await runner.run(LOAD, [key], [])) as unknown[]
      if (reply.length === 0) return undefined
      const fields = new Map<string, string>()
      let touchedAt = 0
      let user: string | undefined
      let indexedAt = 0
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const name = text(reply[i])
        const value = text(reply[i + 1])
        if (name === '~d') return undefined
        if (name === '~t') touchedAt = Number(value)
        else if (name === '~u') user = value
        else if (name === '~i') indexedAt = Number(value)
        else if (name.startsWith('f:')) fields.set(name.slice(2), value)
      }
      const stored: StoredSession = { fields, touchedAt, user, indexedAt }
      return stored
    },

    async write(key, mode, w, now, ttl) {
      const indexed = w.indexed ? '1' : ''
      const args: string[] = [
        mode,
        String(now),
        String(ttl),
        w.user === null ? '-' : (w.user ?? ''),
        indexed,
        String(w.set.size),
      ]
      for (const [field, json] of w.set) args.push(`f:${field}`, json)
      for (const field of w.remove) args.push(`f:${field}`)
      return outcome(await runner.run(WRITE, [key], args))
    },

    async touch(key, set, indexed, now, ttl) {
      const args: string[] = [String(now), String(ttl), indexed ? '1' : '']
      for (const [field, json] of set) args.push(`f:${field}`, json)
      return outcome(await runner.run(TOUCH, [key], args))
    },

    async destroy(key, ttl) {
      const user = text(await runner.run(DESTROY, [key], [String(ttl)]))
      return user === '' ? undefined : user
    },

    async indexAdd(index, member, now, ttl) {
      await runner.run(INDEX_ADD, [index], [member, String(now), String(ttl)])
    },

    async indexList(index, now, ttl) {
      const reply = (await runner.run(INDEX_LIST, [index], [String(now), String(ttl)])) as unknown[]
      return reply.map(text)
    },

    async indexRemove(index, members) {
      if (members.length > 0) await runner.run(INDEX_REMOVE, [index], members)
    },
  }
}

function text(value: unknown): string {
  if (typeof value === 'string') return value
  // A view over the reply's bytes, not a copy of them.
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
  return String(value)
}
