import type { StoreLeases } from '../types.js'
import { RESERVED } from './bookkeeping.js'
import type { SubscriptionStatus, Unsubscribe } from './driver.js'
import { type Script, script } from './scripts.js'

/** Lease keys live in the reserved keyspace, hidden from keys() and patterns. */
const LEASE = `${RESERVED}lease:`
/** Where lease holders announce that a lease ended. */
export const LEASE_CHANNEL = 'cachekit:lease'

/** KEYS[1] lease; ARGV[1] token; ARGV[2] ttl ms. Extends the lease only for its holder. */
const RENEW = script(
  'lease-renew',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
)

/** KEYS[1] lease; ARGV[1] token; ARGV[2] channel; ARGV[3] key. Ends it for its holder and says so. */
const RELEASE = script(
  'lease-release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`,
)

export interface LeaseTransport {
  /** SET key token NX PX ttl; true when set. */
  setIfAbsent(key: string, token: string, ttl: number): Promise<boolean>
  run(s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown>
  subscribe(
    channel: string,
    listener: (message: Buffer) => void,
    status: SubscriptionStatus,
  ): Promise<Unsubscribe>
}

/**
 * Redis leases: SET NX PX to take one, scripts to renew and release it for its holder only, and
 * one pub/sub subscription per store through which every waiter of this process hears of releases.
 * A waiter never relies on that message alone: `getOrSet` gives each wait a short timeout (20 to
 * 250 ms) and re-checks the value, so a lost message or a subscription still coming up costs
 * milliseconds, not a lease TTL.
 */
export function redisLeases(transport: LeaseTransport): StoreLeases {
  const waiters = new Map<string, Set<() => void>>()
  let subscription: Promise<Unsubscribe> | undefined
  const subscribe = () => {
    subscription ??= transport.subscribe(
      LEASE_CHANNEL,
      (message) => {
        const key = message.toString('utf8')
        const set = waiters.get(key)
        if (!set) return
        waiters.delete(key)
        for (const wake of set) wake()
      },
      { up: () => {}, down: () => {} },
    )
    subscription.catch(() => {
      subscription = undefined
    })
  }
  return {
    acquire: (key, token, ttl) => transport.setIfAbsent(LEASE + key, token, ttl),
    renew: async (key, token, ttl) =>
      Number(await transport.run(RENEW, [LEASE + key], [token, String(ttl)])) === 1,
    release: async (key, token) => {
      await transport.run(RELEASE, [LEASE + key], [token, LEASE_CHANNEL, key])
    },
    wait(key, timeout) {
      subscribe()
      let wake: () => void = () => {}
      let timer: NodeJS.Timeout | undefined
      const done = new Promise<void>((resolve) => {
        wake = () => {
          clearTimeout(timer)
          waiters.get(key)?.delete(wake)
          resolve()
        }
        timer = setTimeout(wake, timeout)
        timer.unref()
      })
      let set = waiters.get(key)
      if (!set) waiters.set(key, (set = new Set()))
      set.add(wake)
      return {
        done,
        cancel: () => {
          wake()
          if (waiters.get(key)?.size === 0) waiters.delete(key)
        },
      }
    },
  }
}
