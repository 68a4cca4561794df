/**
 * Page caching in a Fastify app: the cacheResponses plugin on a scope, per-user pages keyed by the
 * user (two users never see each other's page), and Vary learned from the response. Runs on the
 * memory store; with REDIS_URL the pages live in memory over Redis.
 */
import { createCache, memoryStore } from 'cachekit'
import { cacheResponses } from 'cachekit/fastify'
import { responseCache } from 'cachekit/http'
import { redisStore } from 'cachekit/redis'
import Fastify from 'fastify'

const url = process.env['REDIS_URL']
const cache = createCache({
  ...(url ? { tiers: [memoryStore(), redisStore({ url })] as const } : { store: memoryStore() }),
  prefix: `example-http-fastify-${process.pid}`,
})
// Per user: the key includes the user, so Authorization is allowed (it is refused without a key).
const perUser = responseCache({ cache, ttl: '1m', key: (req) => req.header('x-user') })
const shared = responseCache({ cache, ttl: '10m', cdnCacheControl: 'max-age=600' })

const app = Fastify()
await app.register(async (scope) => {
  await scope.register(cacheResponses(perUser))
  scope.get('/dashboard', async (req) => `dashboard of ${req.headers['x-user']}`)
})
await app.register(async (scope) => {
  await scope.register(cacheResponses(shared))
  scope.get('/hello', async (req, reply) => {
    reply.header('vary', 'Accept-Language')
    return req.headers['accept-language']?.startsWith('fr') ? 'bonjour' : 'hello'
  })
})
const base = await app.listen({ port: 0, host: '127.0.0.1' })

const show = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(base + path, { headers })
  const body = await res.text()
  console.log(`${path} ${JSON.stringify(headers)} -> ${res.status} ${res.headers.get('x-cache')} "${body}"`)
  return res
}
await show('/dashboard', { 'x-user': 'ann' }) // MISS
await show('/dashboard', { 'x-user': 'bob' }) // MISS: another user, another page
await show('/dashboard', { 'x-user': 'ann' }) // HIT: ann's own page
await show('/hello', { 'accept-language': 'fr' }) // MISS
await show('/hello', { 'accept-language': 'en' }) // MISS: another variant
const fr = await show('/hello', { 'accept-language': 'fr' }) // HIT
await show('/hello', { 'accept-language': 'fr', 'if-none-match': fr.headers.get('etag') ?? '' }) // 304

await app.close()
await cache.close()
