/**
 * Scenario 1: an in-process cache of 10,000 small objects. `get` hit, `set` and `getOrSet` hit of
 * cachekit's memory store (with each mutation policy) against raw lru-cache and the memory
 * stores of BentoCache, cacheable and cache-manager.
 */

import { isDeepStrictEqual } from 'node:util'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable, CacheableMemory, createKeyv } from 'cacheable'
import { LRUCache } from 'lru-cache'
import { createCache, type MutationPolicy, memoryStore } from './lib/cachekit.js'
import { type Account, account, generate, userKey, windows } from './lib/data.js'
import { ops, percent, ratio, table } from './lib/format.js'
import {
  type Measured,
  type MeasureOptions,
  measure,
  type OpTask,
  pairedRatio,
  roundsNote,
} from './lib/measure.js'
import { defineScenario, progress, ratioTarget } from './lib/scenario.js'

const ENTRIES = 10_000
const MAX = 20_000
/** Operations per timed call: amortizes the timer (~50 ns) over ~1,000 operations of 20 ns to 2 µs. */
const BATCH = 1_000
// Many short rounds: on a shared machine each contender then gets some undisturbed rounds.
const FULL: MeasureOptions = { time: 100, warmupTime: 20, rounds: 10 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1 }

type Op = 'get' | 'set' | 'getOrSet'

interface Contender {
  readonly name: string
  readonly note: string
  /** Fills the cache with every key; awaited before anything is timed. */
  fill(keys: readonly string[], values: readonly Account[]): Promise<void>
  /** A sample read, to check the contender returns what was stored before timing it. */
  read(key: string): Promise<unknown>
  /** The timed batches, written out per contender so each call site stays monomorphic. */
  readonly tasks: Record<Op, { fn: () => unknown; async: boolean }>
}

export default defineScenario({
  title: '1. Memory cache: get / set / getOrSet, 10k keys, small objects',
  async run({ quick }) {
    const keys = generate(ENTRIES, userKey)
    const values = generate(ENTRIES, account)
    const counts = { misses: 0, factoryCalls: 0 }
    const contenders = makeContenders(keys, values, counts)

    for (const c of contenders) {
      await c.fill(keys, values)
      for (const i of [0, 4_321, ENTRIES - 1]) {
        const got = await c.read(keys[i]!)
        if (!isDeepStrictEqual(got, values[i])) throw new Error(`${c.name} returned ${JSON.stringify(got)}`)
      }
    }

    // The target pairs run back to back (cachekit, awaited lru-cache, BentoCache, cache-manager),
    // so their per-round ratios compare rounds taken under the same load.
    const order = [...contenders].sort((a, b) => rank(a.name) - rank(b.name))
    const tasks: OpTask[] = []
    for (const op of ['get', 'set', 'getOrSet'] as const) {
      for (const c of order) tasks.push({ name: `${c.name} ${op}`, ops: BATCH, ...c.tasks[op] })
    }
    const options = quick ? QUICK : FULL
    progress(`${tasks.length} tasks × ${options.rounds} rounds`)
    const results = await measure(tasks, options)
    if (counts.misses !== 0 || counts.factoryCalls !== 0) {
      throw new Error(`a hit path missed: ${JSON.stringify(counts)}; the figures would not be hits`)
    }

    const at = (name: string, op: Op): Measured => results.get(`${name} ${op}`)!
    const base = contenders[0]!.name
    const rows = contenders.map((c) => [
      c.name,
      ...(['get', 'set', 'getOrSet'] as const).flatMap((op) => {
        const m = at(c.name, op)
        return [`${ops(m.opsPerSec)} ${percent(m.spread)}`, ratio(pairedRatio(at(base, op), m))]
      }),
    ])
    const ck = at(base, 'get')
    const vs = (name: string) => pairedRatio(ck, at(name, 'get'))
    const targets = [
      ratioTarget('cachekit get hit ÷ awaited lru-cache get', vs(LRU_AWAITED), '>=', 0.6),
      ratioTarget('cachekit get hit ÷ BentoCache get', vs(BENTO), '>=', 1.5),
      ratioTarget('cachekit get hit ÷ cache-manager get', vs(CACHE_MANAGER), '>=', 3),
    ]

    const body = [
      `${ENTRIES.toLocaleString('en-US')} keys like \`${keys[0]}\`, values like \`${JSON.stringify(values[1])}\`, generated before timing; every cache is filled with all of them first, so every get and getOrSet is a hit (checked: no miss, no factory call).`,
      `Each timed call runs ${BATCH.toLocaleString('en-US')} operations on consecutive keys and awaits every async call; ops/s is ${roundsNote(options)}.`,
      '"cachekit ÷ row" is cachekit (default, `freeze`) ops/s divided by the row\'s, as the median of the per-round ratios (the two run moments apart in each round, under the same load): above 1, cachekit is faster. The targets use these ratios.',
      '',
      table(
        [
          'Contender',
          'get hit ops/s',
          'cachekit ÷ row',
          'set ops/s',
          'cachekit ÷ row',
          'getOrSet hit ops/s',
          'cachekit ÷ row',
        ],
        rows,
      ),
      '',
      'Contenders:',
      '',
      ...contenders.map((c) => `- **${c.name}**: ${c.note}`),
    ].join('\n')
    return { body, targets }
  },
})

const LRU_AWAITED = 'lru-cache, awaited'
const BENTO = 'BentoCache (memory driver)'
const CACHE_MANAGER = 'cache-manager'
const FIRST = ['cachekit (default: freeze)', LRU_AWAITED, BENTO, CACHE_MANAGER]
const rank = (name: string) => (FIRST.includes(name) ? FIRST.indexOf(name) : FIRST.length)

function makeContenders(
  keys: readonly string[],
  values: readonly Account[],
  counts: { misses: number; factoryCalls: number },
): Contender[] {
  const fallback = values[0]!
  const factory = (): Account => {
    counts.factoryCalls++
    return fallback
  }
  const asyncFactory = async (): Promise<Account> => factory()

  const cachekit = (policy: MutationPolicy, note: string): Contender => {
    const cache = createCache({ store: memoryStore({ maxEntries: MAX, mutation: policy }) })
    const next = windows(ENTRIES, BATCH)
    return {
      name: policy === 'freeze' ? 'cachekit (default: freeze)' : `cachekit (${policy})`,
      note: `\`createCache({ store: memoryStore({ maxEntries: ${MAX}${policy === 'freeze' ? '' : `, mutation: '${policy}'`} }) })\`; ${note}`,
      fill: (ks, vs) => cache.setMany(ks.map((k, i) => [k, vs[i]] as const)),
      read: (key) => cache.get(key),
      tasks: {
        get: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++)
              if ((await cache.get(keys[i]!)) === undefined) counts.misses++
          },
        },
        set: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await cache.set(keys[i]!, values[i])
          },
        },
        getOrSet: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await cache.getOrSet(keys[i]!, factory)
          },
        },
      },
    }
  }

  const lru = new LRUCache<string, Account>({ max: MAX, fetchMethod: async () => factory() })
  const lruAwaited: Contender = {
    name: LRU_AWAITED,
    note: "`new LRUCache({ max, fetchMethod })`, every call awaited (`await lru.get(k)`): the limit for an async API over lru-cache, which cachekit's memory store is built on. getOrSet is `await lru.fetch(k)`.",
    fill: async (ks, vs) => {
      for (const [i, key] of ks.entries()) lru.set(key, vs[i]!)
    },
    read: async (key) => lru.get(key),
    tasks: (() => {
      const next = windows(ENTRIES, BATCH)
      return {
        get: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) if ((await lru.get(keys[i]!)) === undefined) counts.misses++
          },
        },
        set: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await lru.set(keys[i]!, values[i]!)
          },
        },
        getOrSet: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await lru.fetch(keys[i]!)
          },
        },
      }
    })(),
  }

  const lruSync: Contender = {
    name: 'lru-cache, sync',
    note: 'the same `LRUCache`, called synchronously: the floor no async API reaches. getOrSet is `lru.get(k) ?? (lru.set(k, v), v)`.',
    fill: async () => {},
    read: async (key) => lru.get(key),
    tasks: (() => {
      const next = windows(ENTRIES, BATCH)
      return {
        get: {
          async: false,
          fn: () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) if (lru.get(keys[i]!) === undefined) counts.misses++
          },
        },
        set: {
          async: false,
          fn: () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) lru.set(keys[i]!, values[i]!)
          },
        },
        getOrSet: {
          async: false,
          fn: () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) {
              const key = keys[i]!
              if (lru.get(key) === undefined) lru.set(key, factory())
            }
          },
        },
      }
    })(),
  }

  const bento = (serialize: boolean): Contender => {
    const cache = new BentoCache({
      default: 'memory',
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX, serialize })) },
    })
    const next = windows(ENTRIES, BATCH)
    return {
      name: serialize ? BENTO : 'BentoCache (memory driver, serialize: false)',
      note: serialize
        ? "`new BentoCache({ default: 'memory', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems })) } })`, its defaults (values stored JSON-serialized; 30 min TTL). getOrSet is `bento.getOrSet({ key, factory })`."
        : 'the same with `memoryDriver({ maxItems, serialize: false })`: values kept by reference, like cachekit `reference`.',
      fill: async (ks, vs) => {
        for (const [i, key] of ks.entries()) await cache.set({ key, value: vs[i] })
      },
      read: (key) => cache.get({ key }),
      tasks: {
        get: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) {
              if ((await cache.get({ key: keys[i]! })) === undefined) counts.misses++
            }
          },
        },
        set: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await cache.set({ key: keys[i]!, value: values[i] })
          },
        },
        getOrSet: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await cache.getOrSet({ key: keys[i]!, factory })
          },
        },
      },
    }
  }

  const memory = new CacheableMemory({ lruSize: MAX })
  const cacheableMemory: Contender = {
    name: 'cacheable CacheableMemory (sync)',
    note: '`new CacheableMemory({ lruSize })` (synchronous API, default `useClone: true`: structuredClone on every read). getOrSet is its synchronous `memory.getOrSet(k, fn)`.',
    fill: async (ks, vs) => {
      for (const [i, key] of ks.entries()) memory.set(key, vs[i])
    },
    read: async (key) => memory.get(key),
    tasks: (() => {
      const next = windows(ENTRIES, BATCH)
      return {
        get: {
          async: false,
          fn: () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) if (memory.get(keys[i]!) === undefined) counts.misses++
          },
        },
        set: {
          async: false,
          fn: () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) memory.set(keys[i]!, values[i])
          },
        },
        getOrSet: {
          async: false,
          fn: () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) memory.getOrSet(keys[i]!, factory)
          },
        },
      }
    })(),
  }

  const cacheable = new Cacheable({ primary: createKeyv({ lruSize: MAX }) })
  const cacheableAsync: Contender = {
    name: 'cacheable Cacheable (async)',
    note: "`new Cacheable({ primary: createKeyv({ lruSize }) })`: cacheable's async cache (Keyv over CacheableMemory), what it offers for the same async API. getOrSet is `cacheable.getOrSet(k, fn)`.",
    fill: async (ks, vs) => {
      for (const [i, key] of ks.entries()) await cacheable.set(key, vs[i])
    },
    read: (key) => cacheable.get(key),
    tasks: (() => {
      const next = windows(ENTRIES, BATCH)
      return {
        get: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++)
              if ((await cacheable.get(keys[i]!)) === undefined) counts.misses++
          },
        },
        set: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await cacheable.set(keys[i]!, values[i])
          },
        },
        getOrSet: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await cacheable.getOrSet(keys[i]!, asyncFactory)
          },
        },
      }
    })(),
  }

  const manager = createCacheManager()
  const cacheManager: Contender = {
    name: CACHE_MANAGER,
    note: '`createCache()` from cache-manager, its default store (Keyv in memory, unbounded). getOrSet is `cache.wrap(k, fn)`.',
    fill: async (ks, vs) => {
      for (const [i, key] of ks.entries()) await manager.set(key, vs[i])
    },
    read: (key) => manager.get(key),
    tasks: (() => {
      const next = windows(ENTRIES, BATCH)
      return {
        get: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++)
              if ((await manager.get(keys[i]!)) === undefined) counts.misses++
          },
        },
        set: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await manager.set(keys[i]!, values[i])
          },
        },
        getOrSet: {
          async: true,
          fn: async () => {
            const at = next()
            for (let i = at; i < at + BATCH; i++) await manager.wrap(keys[i]!, factory)
          },
        },
      }
    })(),
  }

  return [
    cachekit('freeze', 'values deep-copied and frozen on write, returned as they are on read.'),
    cachekit('reference', "the caller's object kept and returned, like lru-cache (still checked on write)."),
    cachekit('clone', 'deep copy on write and on every read.'),
    lruAwaited,
    lruSync,
    bento(true),
    bento(false),
    cacheableMemory,
    cacheableAsync,
    cacheManager,
  ]
}
