/**
 * A manual block: refuse every request of one key for a while, whatever the rules say (an admin
 * action, or a fraud signal). On Redis (set REDIS_URL) every instance sees it; `reset` lifts it.
 */
import { MemoryStore } from 'cachekit'
import { createRateLimiter, type ProtectionStore } from 'cachekit/ratelimit'
import { redisStore } from 'cachekit/redis'

const redis = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : undefined
const store: ProtectionStore = redis ?? new MemoryStore()
await redis?.ready()

// Two limiters over one store stand for two instances of the app.
const options = { store, prefix: `example-block-${process.pid}`, rules: { api: '100/min' as const } }
const [instanceA, instanceB] = [createRateLimiter(options), createRateLimiter(options)]

console.log('before the block:', (await instanceB.consume('api', 'tenant-7')).allowed)
await instanceA.block('api', 'tenant-7', '30m')
const refused = await instanceB.consume('api', 'tenant-7')
console.log(
  'blocked on the other instance:',
  refused.allowed,
  `(retry in ${Math.round(refused.retryAfterMs / 60_000)} min)`,
)
console.log('other keys are untouched:', (await instanceB.consume('api', 'tenant-8')).allowed)

await instanceA.reset('api', 'tenant-7')
// With a Redis store the reset reaches the other instance's deny cache over pub/sub.
let allowed = false
for (let i = 0; i < 50 && !allowed; i++) {
  allowed = (await instanceB.consume('api', 'tenant-7')).allowed
  if (!allowed) await new Promise((resolve) => setTimeout(resolve, 20))
}
console.log('after reset:', allowed)

await Promise.all([instanceA.close(), instanceB.close()])
await redis?.close()
