/**
 * The contenders of the memory scenario (bench/core-memory.ts), each configured as an application
 * would: the prefix and default TTL of lib/data.ts wherever the library has the notion.
 */
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable, CacheableMemory, createKeyv } from 'cacheable'
import { Keyv } from 'keyv'
import { LRUCache } from 'lru-cache'
import { createCache, memoryStore } from './cachekit.js'
import { PREFIX, TTL, TTL_MS } from './data.js'

export interface MemoryContender {
  readonly name: string
  readonly note: string
  /** Called synchronously (no await): the lru-cache and CacheableMemory floors. */
  readonly sync: boolean
  /** Reads keys in consecutive order instead of the shared random one: the labelled best case. */
  readonly consecutive?: boolean
  /** Only the get hit is measured (the best-case row). */
  readonly getOnly?: boolean
  fill(keys: readonly string[], values: readonly unknown[]): Promise<void>
  get(key: string): unknown
  set(key: string, value: unknown): unknown
  /** A hit: the factory must never run. */
  getOrSet(key: string): unknown
}

export const CACHEKIT = 'cachekit'
export const CACHEKIT_BEST = 'cachekit, best case: no prefix, no TTL, consecutive keys (not a target)'
export const LRU_AWAITED = 'lru-cache, awaited'
export const LRU_SYNC = 'lru-cache, sync'
export const BENTO = 'BentoCache (memory driver)'
export const CACHEABLE = 'cacheable Cacheable (async)'
export const CACHEABLE_MEMORY = 'cacheable CacheableMemory (sync)'
export const CACHE_MANAGER = 'cache-manager'

/** The contenders for one workload; `max` bounds every bounded cache; the factory counts calls. */
export function memoryContenders(max: number, factory: () => unknown, best: boolean): MemoryContender[] {
  const asyncFactory = async () => factory()
  const cache = createCache({ store: memoryStore({ maxEntries: max }), prefix: PREFIX, ttl: TTL })
  const lru = new LRUCache<string, object>({ max, ttl: TTL_MS, fetchMethod: async () => factory() as object })
  const bento = new BentoCache({
    default: 'memory',
    prefix: PREFIX,
    ttl: TTL,
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: max })) },
  })
  const cacheable = new Cacheable({ namespace: PREFIX, ttl: TTL, primary: createKeyv({ lruSize: max }) })
  const memory = new CacheableMemory({ lruSize: max, ttl: TTL })
  const manager = createCacheManager({ ttl: TTL_MS, stores: [new Keyv({ namespace: PREFIX })] })

  const contenders: MemoryContender[] = [
    {
      name: CACHEKIT,
      note: `\`createCache({ store: memoryStore({ maxEntries }), prefix: '${PREFIX}', ttl: '${TTL}' })\`: its defaults (values deep-copied and frozen on write, returned as they are on read).`,
      sync: false,
      fill: (ks, vs) => cache.setMany(ks.map((k, i) => [k, vs[i]] as const)),
      get: (key) => cache.get(key),
      set: (key, value) => cache.set(key, value),
      getOrSet: (key) => cache.getOrSet(key, factory),
    },
    {
      name: LRU_AWAITED,
      note: `\`new LRUCache({ max, ttl: ${TTL_MS}, fetchMethod })\` (no prefix: it has no such notion), every call awaited (\`await lru.get(k)\`): the limit for an async API over lru-cache, which cachekit's memory store is built on. getOrSet is \`await lru.fetch(k)\`.`,
      sync: false,
      fill: async (ks, vs) => {
        for (const [i, key] of ks.entries()) lru.set(key, vs[i] as object)
      },
      get: (key) => lru.get(key),
      set: (key, value) => lru.set(key, value as object),
      getOrSet: (key) => lru.fetch(key),
    },
    {
      name: LRU_SYNC,
      note: 'the same `LRUCache`, called synchronously: the floor no async API reaches. getOrSet is `lru.get(k) ?? (lru.set(k, v), v)`.',
      sync: true,
      fill: async () => {},
      get: (key) => lru.get(key),
      set: (key, value) => lru.set(key, value as object),
      getOrSet: (key) => {
        const hit = lru.get(key)
        if (hit !== undefined) return hit
        const value = factory() as object
        lru.set(key, value)
        return value
      },
    },
    {
      name: BENTO,
      note: `\`new BentoCache({ default: 'memory', prefix: '${PREFIX}', ttl: '${TTL}', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems })) } })\`, its defaults otherwise (values stored JSON-serialized). getOrSet is \`bento.getOrSet({ key, factory })\`.`,
      sync: false,
      fill: async (ks, vs) => {
        for (const [i, key] of ks.entries()) await bento.set({ key, value: vs[i] })
      },
      get: (key) => bento.get({ key }),
      set: (key, value) => bento.set({ key, value }),
      getOrSet: (key) => bento.getOrSet({ key, factory }),
    },
    {
      name: CACHEABLE,
      note: `\`new Cacheable({ namespace: '${PREFIX}', ttl: '${TTL}', primary: createKeyv({ lruSize }) })\`: cacheable's async cache (Keyv over CacheableMemory). getOrSet is \`cacheable.getOrSet(k, fn)\`.`,
      sync: false,
      fill: async (ks, vs) => {
        for (const [i, key] of ks.entries()) await cacheable.set(key, vs[i])
      },
      get: (key) => cacheable.get(key),
      set: (key, value) => cacheable.set(key, value),
      getOrSet: (key) => cacheable.getOrSet(key, asyncFactory),
    },
    {
      name: CACHEABLE_MEMORY,
      note: `\`new CacheableMemory({ lruSize, ttl: '${TTL}' })\` (synchronous API, no namespace; default \`useClone: true\`: structuredClone on every read). getOrSet is its synchronous \`memory.getOrSet(k, fn)\`.`,
      sync: true,
      fill: async (ks, vs) => {
        for (const [i, key] of ks.entries()) memory.set(key, vs[i])
      },
      get: (key) => memory.get(key),
      set: (key, value) => memory.set(key, value),
      getOrSet: (key) => memory.getOrSet(key, factory),
    },
    {
      name: CACHE_MANAGER,
      note: `\`createCache({ ttl: ${TTL_MS}, stores: [new Keyv({ namespace: '${PREFIX}' })] })\` from cache-manager (Keyv in memory, unbounded). getOrSet is \`cache.wrap(k, fn)\`.`,
      sync: false,
      fill: async (ks, vs) => {
        for (const [i, key] of ks.entries()) await manager.set(key, vs[i])
      },
      get: (key) => manager.get(key),
      set: (key, value) => manager.set(key, value),
      getOrSet: (key) => manager.wrap(key, factory),
    },
  ]
  if (best) {
    const plain = createCache({ store: memoryStore({ maxEntries: max }) })
    contenders.push({
      name: CACHEKIT_BEST,
      note: '`createCache({ store: memoryStore({ maxEntries }) })`, keys read in consecutive order: the case the earlier figures came from, kept to show what the prefix, the TTL and random keys cost.',
      sync: false,
      consecutive: true,
      getOnly: true,
      fill: (ks, vs) => plain.setMany(ks.map((k, i) => [k, vs[i]] as const)),
      get: (key) => plain.get(key),
      set: (key, value) => plain.set(key, value),
      getOrSet: (key) => plain.getOrSet(key, factory),
    })
  }
  return contenders
}
