import { createHash } from 'node:crypto'
import { InvalidOptionError } from '../errors.js'
import type { PubSubChannel, Script, ScriptRunner } from '../stores/redis/index.js'
import type { Attempt, Grant, LockBackend } from './types.js'

/** What locks need from a shared store: its guarded script runner and its pub/sub channel. */
export interface SharedLockStore {
  scriptRunner(): ScriptRunner
  channel(name: string, options?: { sharded?: boolean }): PubSubChannel
}

/** Lock keys live in the store's reserved keyspace (`RESERVED_KEY_PREFIX`): hidden from keys() and clear(). */
const KEY = '__cachekit:lock:'
/** Where releases are announced: the released lock's key (a wake-up), or a grant `token:ttl:waiter:key` to a queued waiter. */
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
 * How long a waiter stays in the lock's queue (for a direct grant) after its last failed attempt:
 * five re-checks at the slowest back-off. A waiter that died stays there at most this long.
 */
const QUEUE_MARK_MS = 1000
/**
 * How long a lock granted by a release to a queued waiter is held before that waiter extends it to
 * its own TTL (at once, on the grant): what a grantee that died or gave up costs the others at most.
 */
export const CLAIM_MS = 1000

/** `TIME` in ms and µs, for the scripts below. */
const CLOCK = `local time = redis.call('TIME')
local ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local us = tonumber(time[1]) * 1000000 + tonumber(time[2])
`

/**
 * Takes the lock with the next token: the larger of the last token + 1 and the server's time in
 * microseconds (`us`). KEYS[1] lock, KEYS[2] fence; `ttl` a Lua expression. Sets `text` (the token
 * as written) and `token`.
 *
 * The fence key has no TTL, so tokens grow across restarts of the app; the time floor keeps them
 * growing even when Redis lost the fence key (a restart without persistence, a failover to a
 * replica that had not received it), unless the server's clock went back. Lua numbers are doubles:
 * exact below 2^53 (microseconds until the year 2255), written out with %.0f and replied as an integer.
 */
const TAKE = (ttl: string) => `local token = (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) + 1
if us > token then token = us end
local text = string.format('%.0f', token)
redis.call('SET', KEYS[2], text)
redis.call('SET', KEYS[1], text, 'PX', ${ttl})
`

/**
 * KEYS[1] lock, KEYS[2] its fence (last token), KEYS[3] its "someone waits" mark, KEYS[4] its
 * queue of waiters (a sorted set: member `ttl:id`, score the ms its mark lapses; one hash slot);
 * ARGV[1] ttl ms, ARGV[2] the waiter's member or '', ARGV[3] '1' when it may be queued already (a
 * retry: it leaves the queue on success). Takes the lock with the next token (see TAKE)
 * and answers it (a positive integer), or marks that a waiter is there (for WAITING_MARK_MS), queues
 * ARGV[2] (for QUEUE_MARK_MS), and answers `-2 - left`, left being the holder's remaining ms (-1: no
 * expiry), so one integer reply says both.
 */
const ACQUIRE = script(
  'lock-acquire',
  `${CLOCK}local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then
  redis.call('SET', KEYS[3], '1', 'PX', ${WAITING_MARK_MS})
  if ARGV[2] ~= '' then
    redis.call('ZADD', KEYS[4], ms + ${QUEUE_MARK_MS}, ARGV[2])
    redis.call('PEXPIRE', KEYS[4], ${QUEUE_MARK_MS})
  end
  return -2 - left
end
${TAKE('ARGV[1]')}if ARGV[3] == '1' then redis.call('ZREM', KEYS[4], ARGV[2]) end
return token`,
)

/**
 * KEYS[1] lock, KEYS[2] its fence, KEYS[3] its waiting mark, KEYS[4] its queue; ARGV[1] token;
 * ARGV[2] channel. Ends the lock for its holder. When someone waits: grants the lock to the queued
 * waiter whose mark is oldest but live (next token, held for its TTL but at most CLAIM_MS) and
 * publishes `token:member:key`, so it runs without another round trip (and drops the waiting mark
 * if that waiter was the last one queued: its release then sends nothing); with no live waiter
 * queued (one whose mark lapsed, an older cachekit), publishes the key to wake the waiters. A
 * queue member this code did not write (no positive `ttl:` in front) is dropped, not granted. An
 * uncontended release sends nothing to the processes subscribed.
 */
const RELEASE = script(
  'lock-release',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[3]) == 0 then return 1 end
${CLOCK}redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ms)
local member, ttl
repeat
  member = redis.call('ZRANGE', KEYS[4], 0, 0)[1]
  if member then
    redis.call('ZREM', KEYS[4], member)
    ttl = tonumber(string.match(member, '^(%d+):') or '')
  end
until member == nil or (ttl ~= nil and ttl > 0)
if member then
  if redis.call('EXISTS', KEYS[4]) == 0 then redis.call('DEL', KEYS[3]) end
  ttl = math.min(ttl, ${CLAIM_MS})
${TAKE('ttl')}  redis.call('PUBLISH', ARGV[2], text .. ':' .. member .. ':' .. KEYS[1])
  return 1
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[2], KEYS[1])
return 1`,
)

/**
 * KEYS[1] lock, KEYS[2] its queue; ARGV[1] token; ARGV[2] ttl ms; ARGV[3] (optional) a queue
 * member to remove (a grantee taking up its grant). Extends the lock for its holder only.
 */
const EXTEND = script(
  'lock-extend',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] then redis.call('ZREM', KEYS[2], ARGV[3]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`,
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
    async tryAcquire(key, ttl, waiter = '', retry = false) {
      const member = waiter === '' ? '' : `${ttl}:${waiter}`
      const reply = Number(await runner.run(ACQUIRE, keysOf(key), retry ? [ttl, member, '1'] : [ttl, member]))
      if (reply < 0) return { heldFor: -2 - reply } satisfies Attempt
      if (!Number.isSafeInteger(reply)) {
        throw new InvalidOptionError(
          `The fencing counter of ${key} is past 2^53 (${reply}); delete ${key}:fence only if nothing checks its tokens any more`,
        )
      }
      return { token: reply }
    },
    async release(key, token) {
      return Number(await runner.run(RELEASE, keysOf(key), [token, LOCK_CHANNEL])) === 1
    },
    async extend(key, token, ttl, waiter) {
      const args = waiter === undefined ? [token, ttl] : [token, ttl, `${ttl}:${waiter}`]
      return Number(await runner.run(EXTEND, [key, `${key}:queue`], args)) === 1
    },
    subscribe: (listener) => channel.subscribe((message) => parseMessage(message, listener)),
  }
}

/** A lock's keys, as ACQUIRE and RELEASE take them: lock, fence, waiting mark, queue. */
function keysOf(key: string): string[] {
  return [key, `${key}:fence`, `${key}:waiting`, `${key}:queue`]
}

/**
 * A release message: the lock's key (it starts with KEY), or a grant `token:ttl:waiter:key` (it
 * starts with a digit; a waiter id has no colon). Anything else on the channel is ignored.
 */
function parseMessage(message: string, listener: (key: string, grant?: Grant) => void): void {
  if (message.startsWith(KEY)) {
    listener(message)
    return
  }
  const first = message.indexOf(':')
  const second = message.indexOf(':', first + 1)
  const third = message.indexOf(':', second + 1)
  if (first <= 0 || second < 0 || third < 0) return
  const token = Number(message.slice(0, first))
  const key = message.slice(third + 1)
  if (!Number.isSafeInteger(token) || !key.startsWith(KEY)) return
  listener(key, { token, waiter: message.slice(second + 1, third) })
}
