/**
 * Scenario 2: a cold-key stampede. 1,000 callers ask for the same missing key at once, through
 * each library's own get-or-set, with a factory that takes ~5 ms. What matters most is how many
 * times the factory runs per stampede (it is the database query the cache is there to spare).
 */

import { setTimeout as sleep } from 'node:timers/promises'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable, createKeyv } from 'cacheable'
import { LRUCache } from 'lru-cache'
import { createCache, memoryStore } from './lib/cachekit.js'
import { generate, PREFIX, TTL, type User, user } from './lib/data.js'
import { met, ops, percent, table } from './lib/format.js'
import { type MeasureOptions, measure, type OpTask, roundsNote } from './lib/measure.js'
import { defineScenario, progress, type Target } from './lib/scenario.js'

const CALLERS = 1_000
const FACTORY_MS = 5
/** Enough cold keys that no stampede ever finds its key already cached. */
const KEYS = 20_000

interface Contender {
  readonly name: string
  readonly note: string
  getOrSet(key: string): Promise<User | undefined>
}

interface Tally {
  stampedes: number
  factoryCalls: number
  served: number
  /** The most factory calls any single stampede caused. */
  worst: number
}

export default defineScenario({
  title: '2. Cold-key stampede: 1,000 concurrent getOrSet on one missing key',
  async run({ quick }) {
    const keys = generate(KEYS, (i) => `stampede:${i}`)
    const value = user(42)
    const contenders: { contender: Contender; tally: Tally }[] = []
    const add = (make: (factory: () => Promise<User>) => Contender) => {
      const tally: Tally = { stampedes: 0, factoryCalls: 0, served: 0, worst: 0 }
      const factory = async () => {
        tally.factoryCalls++
        await sleep(FACTORY_MS)
        return value
      }
      contenders.push({ contender: make(factory), tally })
    }

    add((factory) => {
      const cache = createCache({ store: memoryStore({ maxEntries: KEYS }), prefix: PREFIX, ttl: TTL })
      return {
        name: 'cachekit',
        note: `\`cache.getOrSet(key, factory)\` on \`createCache({ store: memoryStore(), prefix: '${PREFIX}', ttl: '${TTL}' })\``,
        getOrSet: (key) => cache.getOrSet(key, factory),
      }
    })
    add((factory) => {
      const lru = new LRUCache<string, User>({ max: KEYS, fetchMethod: () => factory() })
      return {
        name: 'lru-cache fetch',
        note: "`lru.fetch(key)` with `fetchMethod`: lru-cache's own answer",
        getOrSet: (key) => lru.fetch(key),
      }
    })
    add((factory) => {
      const bento = new BentoCache({
        default: 'memory',
        stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: KEYS })) },
      })
      return {
        name: 'BentoCache',
        note: '`bento.getOrSet({ key, factory })`, memory driver only',
        getOrSet: (key) => bento.getOrSet({ key, factory }),
      }
    })
    add((factory) => {
      const cacheable = new Cacheable({ primary: createKeyv({ lruSize: KEYS }) })
      return {
        name: 'cacheable',
        note: "`cacheable.getOrSet(key, factory)` on `new Cacheable()` (CacheableMemory's own getOrSet is synchronous and cannot await a factory)",
        getOrSet: (key) => cacheable.getOrSet(key, factory),
      }
    })
    add((factory) => {
      const manager = createCacheManager()
      return {
        name: 'cache-manager',
        note: '`cache.wrap(key, factory)` on `createCache()`',
        getOrSet: (key) => manager.wrap(key, factory),
      }
    })

    const tasks: OpTask[] = contenders.map(({ contender, tally }) => {
      let next = 0
      const pending = new Array<Promise<User | undefined>>(CALLERS)
      return {
        name: contender.name,
        ops: 1,
        async: true,
        fn: async () => {
          if (next === KEYS) throw new Error('out of cold keys: raise KEYS')
          const key = keys[next++]!
          const before = tally.factoryCalls
          for (let i = 0; i < CALLERS; i++) pending[i] = contender.getOrSet(key)
          const results = await Promise.all(pending)
          tally.stampedes++
          tally.worst = Math.max(tally.worst, tally.factoryCalls - before)
          for (const result of results) if (result?.id === value.id) tally.served++
        },
      }
    })
    // The floor: the factory alone, once, with no cache and no callers around it.
    const floor = async () => {
      await sleep(FACTORY_MS)
    }
    tasks.push({ name: 'floor', ops: 1, async: true, fn: floor })

    const options: MeasureOptions = quick
      ? { time: 300, warmupTime: 50, rounds: 1 }
      : { time: 500, warmupTime: 100, rounds: 4 }
    progress(`${contenders.length} libraries × ${options.rounds} rounds, ${CALLERS} callers per stampede`)
    const results = await measure(tasks, options)
    const floorMs = results.get('floor')!.periodMs

    const rows = contenders.map(({ contender, tally }) => {
      const m = results.get(contender.name)!
      return [
        contender.name,
        `${ops(m.opsPerSec)} ${percent(m.spread)}`,
        `${m.periodMs.toFixed(2)} ms`,
        `${(m.periodMs - floorMs).toFixed(2)} ms`,
        (tally.factoryCalls / tally.stampedes).toFixed(2),
        tally.worst,
        `${((100 * tally.served) / (tally.stampedes * CALLERS)).toFixed(1)}%`,
        tally.stampedes,
      ]
    })
    const ck = contenders[0]!.tally
    const perStampede = ck.factoryCalls / ck.stampedes
    const targets: Target[] = [
      {
        name: 'cachekit factory calls per stampede',
        goal: 'exactly 1',
        measured: `${perStampede} (${ck.factoryCalls} calls / ${ck.stampedes} stampedes)`,
        met: ck.factoryCalls === ck.stampedes && ck.worst === 1 && ck.served === ck.stampedes * CALLERS,
      },
    ]

    const body = [
      `Each stampede: ${CALLERS.toLocaleString('en-US')} calls to the library's get-or-set for one key no one has asked for yet, all made before any resolves, then \`Promise.all\`. The factory sleeps ${FACTORY_MS} ms and returns a small object; a fresh cold key (made beforehand) per stampede.`,
      `"floor" is the factory alone, awaited once (${floorMs.toFixed(2)} ms here: timers are coarser than ${FACTORY_MS} ms), so "overhead" is what the library adds to a stampede on top of one factory call. stampedes/s and times are ${roundsNote(options)}. "factory calls" counts every call, warmup included, divided by the stampedes run; "served" is the share of callers that got the factory's value.`,
      '',
      table(
        [
          'Library',
          'stampedes/s',
          'time per stampede',
          'overhead over floor',
          'factory calls / stampede',
          'most in one stampede',
          'served',
          'stampedes',
        ],
        rows,
      ),
      '',
      ...contenders.map(({ contender }) => `- **${contender.name}**: ${contender.note}.`),
      '',
      `cachekit: ${met(targets[0]!.met)} (exactly one factory call per stampede, every caller served).`,
    ].join('\n')
    return { body, targets }
  },
})
