/**
 * Keyv, cache-manager and cacheable over a cachekit cache.
 *
 *   npx tsx examples/keyv.ts
 */
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable } from 'cacheable'
import { createCache, memoryStore } from 'cachekit'
import { createKeyv, KeyvCachekit, keyvStore } from 'cachekit/keyv'
import Keyv from 'keyv'

const cache = createCache({ store: memoryStore(), prefix: 'app', ttl: '5m' })

// 1. Plain Keyv: the adapter is the store; Keyv prefixes keys with its namespace ('keyv').
const keyv = new Keyv({ store: new KeyvCachekit(cache) })
keyv.on('error', (error) => console.error('keyv error:', error))
await keyv.set('greeting', 'hello', 60_000)
console.log('keyv.get("greeting") ->', await keyv.get('greeting'))
console.log('  stored in cachekit as', JSON.stringify(cache.makeKey('keyv:greeting')))
console.log('  cache TTL left (ms) ->', await cache.ttl('keyv:greeting'))
await keyv.set('no-ttl', 1)
console.log('  a Keyv write without TTL takes the cache default: ttl ->', await cache.ttl('keyv:no-ttl'))

// 2. Two namespaces over one cache: clear() of one leaves the other.
const sessions = new Keyv({ store: keyvStore(cache), namespace: 'sessions' })
const users = new Keyv({ store: keyvStore(cache), namespace: 'users' })
await sessions.set('s1', { userId: 1 })
await users.set('u1', { name: 'Ada' })
await sessions.clear()
console.log('after sessions.clear(): sessions.get("s1") ->', await sessions.get('s1'))
console.log('                        users.get("u1")    ->', await users.get('u1'))

// 3. createKeyv: Keyv's JSON step is off, so cachekit keeps the types; keyv.iterator() works.
const typed = createKeyv(cache, { namespace: 'typed' })
await typed.set('event', { at: new Date('2024-05-01T10:00:00Z'), total: 10n ** 20n })
const event = (await typed.get('event')) as { at: Date; total: bigint }
console.log(
  'createKeyv keeps types: at instanceof Date ->',
  event.at instanceof Date,
  '| total ->',
  event.total,
)
const plain = await keyv.set('event', { at: new Date('2024-05-01T10:00:00Z') }).then(() => keyv.get('event'))
console.log('plain Keyv (JSON) turns the Date into ->', typeof plain.at, plain.at)
for await (const [key, value] of typed.iterator!(undefined)) console.log('  typed.iterator() ->', key, value)

// 4. cache-manager 7 on top.
const manager = createCacheManager({
  stores: [new Keyv({ store: new KeyvCachekit(cache), namespace: 'cm' })],
})
let loads = 0
const loadUser = async () => ({ id: 42, loadedTimes: ++loads })
console.log('cache-manager wrap #1 ->', await manager.wrap('user:42', loadUser, 60_000))
console.log(
  'cache-manager wrap #2 ->',
  await manager.wrap('user:42', loadUser, 60_000),
  '(loader ran',
  loads,
  'time)',
)

// 5. cacheable with the adapter as its secondary (shared) tier.
const cacheable = new Cacheable({ secondary: new KeyvCachekit(cache), namespace: 'cb' })
await cacheable.set('answer', 42)
console.log('cacheable.get("answer") ->', await cacheable.get('answer'))

const keys: string[] = []
for await (const key of cache.keys()) keys.push(key)
console.log('every key in the cache:', keys.sort().join(', '))

// disconnect() closes the cache the adapter was given; other caches on the store stay open.
await keyv.disconnect()
console.log('closed')
