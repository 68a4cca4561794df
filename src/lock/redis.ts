import { createHash } from 'node:crypto'
import { InvalidOptionError } from '../errors.js'
import type { PubSubChannel, Script, ScriptRunner } from '../stores/redis/index.js'
import type { Attempt, LockBackend } from './types.js'

/** What locks need from a shared store: its guarded script runner and its pub/sub channel. */
export interface SharedLockStore {
  scriptRunner(): ScriptRunner
  channel(name: string, options?: { sharded?: boolean }): PubSubChannel
}

/** Lock keys live in the store's reserved keyspace (`RESERVED_KEY_PREFIX`): hidden from keys() and clear(). */
const KEY = '__cachekit:lock:'
/** Where releases are announced; the message is the released lock's key. */
export const LOCK_CHANNEL = 'cachekit:lock'

function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * How long a waiter's mark lasts. Waiters re-check at least every 200 ms and each failed attempt
 * renews it, so it outlives the wait; if it ever lapses, the release sends no message and the
 * waiters' re-check finds the lock free a few ms later.
 */
const WAITING_MARK_MS = 2000

/**
 * KEYS[1] lock, KEYS[2] its fence (last token), KEYS[3] its "someone waits" mark (one hash slot);
 * ARGV[1] ttl ms. Takes the lock with the next token and answers it (a positive integer), or marks
 * that a waiter is there (for WAITING_MARK_MS) and answers `-2 - left`, left being the holder's
 * remaining ms (-1: no expiry), so one integer reply says both.
 *
 * The token is the larger of the last token + 1 and the server's time in microseconds. The fence
 * key has no TTL, so tokens grow across restarts of the app; the time floor keeps them growing even
 * when Redis lost the fence key (a restart without persistence, a failover to a replica that had
 * not received it), unless the server's clock went back. Lua numbers are doubles: exact below 2^53
 * (microseconds until the year 2255), written out with %.0f and replied as an integer.
 */
const ACQUIRE = script(
  'lock-acquire',
  `local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then
  redis.call('SET', KEYS[3], '1', 'PX', ${WAITING_MARK_MS})
  return -2 - left
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local token = (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) + 1
if now > token then token = now end
local text = string.format('%.0f', token)
redis.call('SET', KEYS[2], text)
redis.call('SET', KEYS[1], text, 'PX', ARGV[1])
return token`,
)

/**
 * KEYS[1] lock, KEYS[2] its waiting mark; ARGV[1] token; ARGV[2] channel. Ends the lock for its
 * holder and, only when someone is waiting for it, says so: an uncontended release sends nothing
 * to the processes subscribed.
 */
const RELEASE = script(
  'lock-release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if redis.call('DEL', KEYS[2]) == 1 then redis.call('PUBLISH', ARGV[2], KEYS[1]) end
  return 1
end
return 0`,
)

/** KEYS[1] lock; ARGV[1] token; ARGV[2] ttl ms. Extends the lock for its holder only. */
const EXTEND = script(
  'lock-extend',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
)

/**
 * The Redis key of a lock. The name is the `{hash tag}`, so the lock and its counter share a slot
 * in Cluster and one script can touch both; names with braces are refused before this.
 */
export function lockKey(name: string): string {
  return `${KEY}{${name}}`
}

/**
 * Locks on a Redis store: one script per acquire, release and extend, through the store's script
 * runner (deadline, breaker, NOSCRIPT reload; failures reject with `StoreUnavailableError` whatever
 * the store's `onError`, so a lock is never "acquired" on a Redis that did not answer), and release
 * messages on the store's one pub/sub connection.
 */
export function redisLockBackend(store: SharedLockStore): LockBackend {
  const runner = store.scriptRunner()
  // Classic pub/sub even on Cluster: the release script publishes on one channel for every lock,
  // whose slot is not the lock's, and a script may SPUBLISH only to its own keys' slot.
  const channel = store.channel(LOCK_CHANNEL, { sharded: false })
  return {
    shared: true,
    async tryAcquire(key, ttl) {
      const reply = Number(await runner.run(ACQUIRE, [key, `${key}:fence`, `${key}:waiting`], [ttl]))
      if (reply < 0) return { heldFor: -2 - reply } satisfies Attempt
      if (!Number.isSafeInteger(reply)) {
        throw new InvalidOptionError(
          `The fencing counter of ${key} is past 2^53 (${reply}); delete ${key}:fence only if nothing checks its tokens any more`,
        )
      }
      return { token: reply }
    },
    async release(key, token) {
      return Number(await runner.run(RELEASE, [key, `${key}:waiting`], [token, LOCK_CHANNEL])) === 1
    },
    async extend(key, token, ttl) {
      return Number(await runner.run(EXTEND, [key], [token, ttl])) === 1
    },
    subscribe: (listener) => channel.subscribe(listener),
  }
}
