/**
 * The contenders of the Redis scenario (bench/redis.ts): cachekit's Redis store and the clients and
 * Redis caches a user would pick instead, each configured as an application would (a prefix, a
 * default TTL of lib/data.ts) and each under its own prefix on the one bench server.
 */
import { createKeyv } from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { createCache } from './cachekit.js'
import { redisStore } from './cachekit-redis.js'
import { PREFIX, STORE_TIMEOUT_MS, TTL, TTL_MS } from './data.js'

export interface Deleter {
  readonly note: string
  /** The Redis keys it removes are `${prefix}${i}`; the bench fills them raw before each round. */
  readonly prefix: string
  run(): Promise<unknown>
}

export interface RedisContender {
  readonly name: string
  readonly note: string
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  getMany(keys: readonly string[]): Promise<unknown>
  /** How many values a getMany reply holds, to check every key was a hit. */
  found(reply: unknown): number
  readonly deleter: Deleter
  close(): Promise<unknown>
}

export const CACHEKIT = 'cachekit'
export const NODE_REDIS = 'node-redis (raw + JSON, limit)'
export const IOREDIS = 'ioredis (raw + JSON)'
export const BENTO = 'BentoCache (redis driver, L2 only)'
export const KEYV = 'Keyv + @keyv/redis'

const nonNull = (reply: unknown) => (reply as unknown[]).filter((v) => v !== null && v !== undefined).length
const parse = (json: string | null) => (json === null ? undefined : JSON.parse(json))

export async function redisContenders(url: string): Promise<RedisContender[]> {
  const port = Number(new URL(url).port)

  const cache = createCache({
    store: redisStore({ url, timeout: STORE_TIMEOUT_MS }),
    prefix: PREFIX,
    ttl: TTL,
  })
  const cachekit: RedisContender = {
    name: CACHEKIT,
    note: `\`createCache({ store: redisStore({ url, timeout: ${STORE_TIMEOUT_MS} }), prefix: '${PREFIX}', ttl: '${TTL}' })\`: a ${STORE_TIMEOUT_MS / 1000} s deadline per call instead of the default 100 ms, which trips on this oversubscribed machine and opens the circuit breaker; its defaults otherwise (msgpack codec, circuit breaker); \`cache.get(k)\`, \`cache.set(k, v)\` (the default TTL). getMany is \`cache.getMany(keys)\` (a Map); deletion is \`cache.deletePattern('del:*')\` (SCAN with COUNT 1000, UNLINK per page, up to 8 UNLINKs in flight).`,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getMany: (keys) => cache.getMany(keys),
    found: (reply) => (reply as Map<string, unknown>).size,
    deleter: {
      note: '`cache.deletePattern(pattern)`',
      prefix: `${PREFIX}:del:`,
      run: () => cache.deletePattern('del:*'),
    },
    close: () => cache.close(),
  }

  const client = createClient({ url, commandOptions: { timeout: 0 } })
  await client.connect()
  const nr = `${PREFIX}-nr:`
  const nodeRedis: RedisContender = {
    name: NODE_REDIS,
    note: `\`createClient({ url, commandOptions: { timeout: 0 } })\` (node-redis's default 5 s timer per command off); what an application caching objects writes by hand: \`JSON.parse(await client.get('${nr}' + k))\`, \`client.set('${nr}' + k, JSON.stringify(v), { expiration: { type: 'PX', value: ${TTL_MS} } })\`, \`client.mGet(keys)\` (left unparsed). Deletion: the plain loop \`for await (const keys of client.scanIterator({ MATCH, COUNT: 1000 })) await client.unlink(keys)\`.`,
    get: async (key) => parse(await client.get(nr + key)),
    set: (key, value) =>
      client.set(nr + key, JSON.stringify(value), { expiration: { type: 'PX', value: TTL_MS } }),
    getMany: (keys) => client.mGet(keys.map((k) => nr + k)),
    found: nonNull,
    deleter: {
      note: 'SCAN + UNLINK loop, one page at a time',
      prefix: `${nr}del:`,
      run: async () => {
        for await (const keys of client.scanIterator({ MATCH: `${nr}del:*`, COUNT: 1000 })) {
          if (keys.length > 0) await client.unlink(keys)
        }
      },
    },
    close: async () => client.destroy(),
  }

  const io = new Redis(port, '127.0.0.1')
  const ir = `${PREFIX}-io:`
  const ioredis: RedisContender = {
    name: IOREDIS,
    note: `\`new Redis(port, host)\`, its defaults; \`JSON.parse(await redis.get('${ir}' + k))\`, \`redis.set('${ir}' + k, JSON.stringify(v), 'PX', ${TTL_MS})\`, \`redis.mget(keys)\`. Deletion: \`for await (const keys of redis.scanStream({ match, count: 1000 })) await redis.unlink(...keys)\`.`,
    get: async (key) => parse(await io.get(ir + key)),
    set: (key, value) => io.set(ir + key, JSON.stringify(value), 'PX', TTL_MS),
    getMany: (keys) => io.mget(keys.map((k) => ir + k)),
    found: nonNull,
    deleter: {
      note: 'SCAN + UNLINK loop (`scanStream`)',
      prefix: `${ir}del:`,
      run: async () => {
        for await (const keys of io.scanStream({ match: `${ir}del:*`, count: 1000 })) {
          if ((keys as string[]).length > 0) await io.unlink(...(keys as string[]))
        }
      },
    },
    close: async () => io.disconnect(),
  }

  const bentoPrefix = `${PREFIX}-bento`
  const bento = new BentoCache({
    default: 'redis',
    ttl: TTL,
    stores: {
      redis: bentostore().useL2Layer(
        redisDriver({ connection: new Redis(port, '127.0.0.1'), prefix: bentoPrefix }),
      ),
    },
  })
  const bentoDel = bento.namespace('del')
  const bentoCache: RedisContender = {
    name: BENTO,
    note: `\`new BentoCache({ default: 'redis', ttl: '${TTL}', stores: { redis: bentostore().useL2Layer(redisDriver({ connection: ioredis, prefix: '${bentoPrefix}' })) } })\`: Redis only, no L1 and no bus, so only its Redis path is compared. \`bento.get({ key })\`, \`bento.set({ key, value })\`. No getMany: \`Promise.all\` of gets. Deletion: it has no pattern delete; the closest is clearing a namespace, \`bento.namespace('del').clear()\` (SCAN + pipelined UNLINK, prefix only).`,
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value }),
    getMany: (keys) => Promise.all(keys.map((key) => bento.get({ key }))),
    found: nonNull,
    deleter: {
      note: '`bento.namespace(ns).clear()`: a whole namespace, not a pattern',
      prefix: `${bentoPrefix}:del:`,
      run: () => bentoDel.clear(),
    },
    close: () => bento.disconnectAll(),
  }

  const keyv = createKeyv(url, { namespace: `${PREFIX}-keyv` })
  keyv.ttl = TTL_MS
  const keyvDel = createKeyv(url, { namespace: 'kvdel' })
  const keyvRedis: RedisContender = {
    name: KEYV,
    note: `\`createKeyv(url, { namespace: '${PREFIX}-keyv' })\` from @keyv/redis (a Keyv over \`new KeyvRedis(url)\`, node-redis underneath with its default 5 s command timer), \`keyv.ttl = ${TTL_MS}\`, its defaults otherwise (JSON serialization). \`keyv.get(k)\`, \`keyv.set(k, v)\`, \`keyv.getMany(keys)\`. Deletion: Keyv has no pattern delete; the closest is \`keyv.clear()\` on a Keyv whose namespace is the prefix (SCAN + UNLINK, namespace only).`,
    get: (key) => keyv.get(key),
    set: (key, value) => keyv.set(key, value),
    getMany: (keys) => keyv.getMany(keys as string[]),
    found: nonNull,
    deleter: {
      note: '`keyv.clear()` of a namespace: a whole namespace, not a pattern',
      prefix: 'kvdel::',
      run: () => keyvDel.clear(),
    },
    close: async () => {
      await keyv.disconnect()
      await keyvDel.disconnect()
    },
  }

  return [cachekit, nodeRedis, ioredis, bentoCache, keyvRedis]
}
