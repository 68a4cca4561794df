import { describe, expect, it } from 'vitest'
import { createLocks } from '../../src/lock/index.js'
import { LOCK_CHANNEL } from '../../src/lock/redis.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { useRedisServer, useRedisStore } from '../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const GRANT = /^(\d+):(\d+):([^:]+):(.+)$/

// A release hands the lock straight to a queued waiter (a new token, published to it), so the
// waiter runs without another round trip; a grant nobody takes up is bounded by CLAIM_MS.
describe('lock handoff: a release grants the lock to a queued waiter (Redis)', () => {
  const server = useRedisServer()
  const store = useRedisStore(server, { timeout: 1000 })

  /** Every message on the lock channel, heard on a store of its own. */
  async function listen(): Promise<{ messages: string[]; stop: () => Promise<void> }> {
    const listener = redisStore({ url: server.url, timeout: 1000 })
    const messages: string[] = []
    const unsubscribe = await listener.channel(LOCK_CHANNEL, { sharded: false }).subscribe((m) => {
      messages.push(m)
    })
    // The subscription is live once a message published now comes back.
    while (!messages.includes('ping')) {
      await listener.channel(LOCK_CHANNEL, { sharded: false }).publish('ping')
      await sleep(20)
    }
    messages.length = 0
    return {
      messages,
      stop: async () => {
        await unsubscribe()
        await listener.close()
      },
    }
  }

  it('the waiter gets the lock by the release itself: a grant with a larger token, then its own TTL', async () => {
    const heard = await listen()
    const locks = createLocks({ store: store(), prefix: 'grant:' })
    const second = redisStore({ url: server.url, timeout: 1000 })
    const other = createLocks({ store: second, prefix: 'grant:' })
    const held = await locks.lock('job', { ttl: 10_000 })
    const waiting = other.lock('job', { ttl: 30_000, wait: 5000 })
    while (other.stats().waiting === 0) await sleep(5)
    expect(await held.release()).toBe(true)
    const next = await waiting
    expect(next.token).toBeGreaterThan(held.token)
    while (heard.messages.length === 0) await sleep(5)
    // Exactly one message: the grant, naming the waiter's TTL and the new token.
    expect(heard.messages).toHaveLength(1)
    const grant = GRANT.exec(heard.messages[0] as string)
    expect(grant?.[1]).toBe(String(next.token))
    expect(grant?.[2]).toBe('30000')
    expect(grant?.[4]).toBe('__cachekit:lock:{grant:job}')
    // The grant holds the lock for a short claim; the grantee extends it to its TTL at once.
    for (let i = 0; i < 100 && Number(server.cli('PTTL', '__cachekit:lock:{grant:job}')) <= 1000; i++) {
      await sleep(10)
    }
    expect(Number(server.cli('PTTL', '__cachekit:lock:{grant:job}'))).toBeGreaterThan(1000)
    expect(next.signal.aborted).toBe(false)
    // The last waiter's release has nobody to tell.
    expect(await next.release()).toBe(true)
    await sleep(50)
    expect(heard.messages).toHaveLength(1)
    expect(server.cli('EXISTS', '__cachekit:lock:{grant:job}:waiting')).toBe('0')
    expect(server.cli('EXISTS', '__cachekit:lock:{grant:job}:queue')).toBe('0')
    expect(other.stats()).toMatchObject({ waiting: 0, held: 0, lost: 0, errors: 0 })
    await locks.close()
    await other.close()
    await second.close()
    await heard.stop()
  })

  it('a grant to a wait that gave up is handed back at once and goes to the next waiter', async () => {
    const heard = await listen()
    const locks = createLocks({ store: store(), prefix: 'giveup:' })
    const second = redisStore({ url: server.url, timeout: 1000 })
    const other = createLocks({ store: second, prefix: 'giveup:' })
    const held = await locks.lock('job', { ttl: 10_000 })
    const controller = new AbortController()
    // Queued first, then aborted: its place in the queue outlives it (no round trip to leave it).
    const quitter = other.lock('job', { wait: 5000, signal: controller.signal })
    while (other.stats().waiting === 0) await sleep(5)
    const patient = other.lock('job', { wait: 5000 })
    while (other.stats().waiting < 2) await sleep(5)
    controller.abort()
    await expect(quitter).rejects.toThrow(/aborted/)
    expect(await held.release()).toBe(true)
    const next = await patient
    expect(next.token).toBeGreaterThan(held.token)
    // Two grants: to the wait that had given up (handed back), then to the patient one.
    while (heard.messages.length < 2) await sleep(5)
    await sleep(50)
    const grants = heard.messages.map((m) => GRANT.exec(m))
    expect(grants.every((g) => g !== null)).toBe(true)
    expect(grants.length).toBe(2)
    expect(Number(grants[1]?.[1])).toBe(next.token)
    expect(Number(grants[0]?.[1])).toBeLessThan(next.token)
    await next.release()
    expect(other.stats()).toMatchObject({ held: 0, waiting: 0, errors: 0 })
    await locks.close()
    await other.close()
    await second.close()
    await heard.stop()
  })

  it('a grant to a waiter that died holds the lock for the short claim only, not its TTL', async () => {
    const locks = createLocks({ store: store(), prefix: 'dead:' })
    const held = await locks.lock('job', { ttl: 10_000 })
    // A waiter of a process that is gone: queued (live for 1 s) with a 60 s TTL, nobody to claim it.
    const time = server.cli('TIME').split('\n').map(Number)
    const nowMs = Math.floor((time[0] as number) * 1000 + (time[1] as number) / 1000)
    server.cli('SET', '__cachekit:lock:{dead:job}:waiting', '1', 'PX', '2000')
    server.cli('ZADD', '__cachekit:lock:{dead:job}:queue', String(nowMs + 1000), '60000:gone.1')
    expect(await held.release()).toBe(true)
    const ttl = Number(server.cli('PTTL', '__cachekit:lock:{dead:job}'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(1000)
    // The next caller gets it once the claim runs out (woken by the holder's remaining time).
    const next = await locks.lock('job', { wait: 5000 })
    expect(next.token).toBeGreaterThan(held.token)
    await next.release()
    await locks.close()
  })

  it('queue members cachekit did not write are dropped, and the release still succeeds', async () => {
    const locks = createLocks({ store: store(), prefix: 'planted:' })
    const held = await locks.lock('job', { ttl: 10_000 })
    const time = server.cli('TIME').split('\n').map(Number)
    const live = String(Math.floor((time[0] as number) * 1000 + (time[1] as number) / 1000) + 1000)
    server.cli('SET', '__cachekit:lock:{planted:job}:waiting', '1', 'PX', '2000')
    for (const member of ['garbage', '0:zero-ttl', ':no-ttl', 'x1:y']) {
      server.cli('ZADD', '__cachekit:lock:{planted:job}:queue', live, member)
    }
    expect(await held.release()).toBe(true)
    // Nobody real was queued: the lock is free, not granted to a planted member.
    expect(server.cli('EXISTS', '__cachekit:lock:{planted:job}')).toBe('0')
    expect(server.cli('EXISTS', '__cachekit:lock:{planted:job}:queue')).toBe('0')
    const next = await locks.lock('job', { wait: 0 })
    expect(next.token).toBeGreaterThan(held.token)
    await next.release()
    await locks.close()
  })

  it('many waiters in several processes: every one gets the lock once, tokens strictly increase', async () => {
    const stores = [store(), ...[1, 2].map(() => redisStore({ url: server.url, timeout: 1000 }))]
    const all = stores.map((s) => createLocks({ store: s, prefix: 'many:' }))
    const tokens: number[] = []
    let inside = 0
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (all[i % all.length] as (typeof all)[number]).withLock(
          'job',
          async ({ token }) => {
            inside++
            expect(inside).toBe(1)
            tokens.push(token)
            await sleep(1)
            inside--
          },
          { wait: 10_000 },
        ),
      ),
    )
    expect(tokens).toHaveLength(30)
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b))
    expect(new Set(tokens).size).toBe(30)
    for (const locks of all) {
      expect(locks.stats()).toMatchObject({ held: 0, waiting: 0, lost: 0, errors: 0 })
      await locks.close()
    }
    for (const s of stores.slice(1)) await s.close()
  })
})
