/**
 * Reward and penalty: give back points for requests that should not count, and take points for
 * abuse, on every policy of a scope. Runs on the memory store; set REDIS_URL to keep the counters
 * in Redis, where each write is one atomic script call.
 */
import { MemoryStore } from 'cachekit'
import { createRateLimiter, type ProtectionStore } from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'

const redis = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : undefined
const store: ProtectionStore = redis ?? new MemoryStore()
await redis?.ready()

const limiter = createRateLimiter({
  store,
  prefix: `example-rp-${process.pid}`,
  rules: { search: ['3/min', '100/day'] },
})

const consume = async () => (await limiter.consume('search', 'client-1')).allowed
console.log('3 searches, then a 4th:', await consume(), await consume(), await consume(), await consume())

// The backend failed the last search: give it back, and the next request passes at once.
await limiter.reward('search', 'client-1')
console.log('after a reward:', await consume())

// A reward never gives more than a whole allowance.
await limiter.reward('search', 'client-2', 50)
const results = []
for (let i = 0; i < 4; i++) results.push((await limiter.consume('search', 'client-2')).allowed)
console.log('50 points back on a fresh key still allow 3:', results.join(' '))

// Abuse detected: a penalty goes past the limit, so requests are refused until it recovers.
await limiter.penalty('search', 'client-3', 10)
const refused = await limiter.consume('search', 'client-3')
console.log(
  'after a 10-point penalty:',
  refused.allowed,
  `(retry in ${Math.ceil(refused.retryAfterMs / 1000)} s)`,
)

await limiter.close()
await redis?.close()
