/**
 * A queue in front of a rate-limited API: calls wait for the next allowance instead of being
 * refused, in the order they came, and give up after `maxWait` or when their signal aborts. On
 * Redis (set REDIS_URL) every process's queue draws on the same allowance.
 */
import { MemoryStore } from 'cachekit'
import { createRateLimiter, createRateQueue, type ProtectionStore } from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'

const redis = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : undefined
const store: ProtectionStore = redis ?? new MemoryStore()
await redis?.ready()

// The partner API allows 5 calls per 500 ms per account.
const limiter = createRateLimiter({
  store,
  prefix: `example-queue-${process.pid}`,
  rules: { partner: { limit: 5, window: '500ms', algorithm: 'fixed-window' } },
})
const queue = createRateQueue(limiter, 'partner', { maxQueue: 100, maxWait: '5s' })

const started = Date.now()
const callPartner = async (n: number) => {
  await queue.wait('account-42') // resolves when this call may go out
  return `call ${n} sent after ${Math.round((Date.now() - started) / 100) * 100} ms`
}
for (const line of await Promise.all(Array.from({ length: 12 }, (_, n) => callPartner(n)))) console.log(line)

// A caller that gives up leaves the queue at once.
const controller = new AbortController()
const gaveUp = queue.wait('account-42', { signal: controller.signal }).catch((e: Error) => e.name)
controller.abort()
console.log('aborted wait:', await gaveUp)

// One that would wait too long is told so with a typed error.
const strict = await queue
  .wait('account-42', { cost: 5, maxWait: '10ms' })
  .catch((e: { code: string }) => e.code)
console.log('too long to wait:', strict)

// At shutdown: whoever still waits is told the call did not go out, and the timers stop.
const pending = queue.wait('account-42', { cost: 3 }).catch((e: { code: string }) => e.code)
queue.close()
console.log('closed while waiting:', await pending)

await limiter.close()
await redis?.close()
