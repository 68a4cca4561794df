import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../../../src/index.js'
import type { MemoryStore } from '../../../src/stores/memory/index.js'

/**
 * The first cache built on an empty memory store makes its prefix the store's home and keeps its
 * keys without it (src/stores/memory/home.ts). That must be invisible: a store with a home answers
 * every call exactly as one without, for any key, including keys that start with NUL, keys equal
 * to the home and keys that only look like it.
 */
const HOME = 'h:'
const keyArb = fc
  .array(fc.constantFrom('h', ':', '\u0000', 'a', '*'), { minLength: 1, maxLength: 5 })
  .map((parts) => parts.join(''))
const fullKey = fc.oneof(
  keyArb,
  keyArb.map((k) => HOME + k),
  fc.constant(HOME),
)
const patternArb = fc.constantFrom('*', 'h:*', 'h*', '\u0000*', '*a', 'h:\u0000*', '?')

type Op =
  | { op: 'set'; key: string; value: number }
  | { op: 'get' | 'delete' | 'has' | 'ttl' | 'incr' | 'touch'; key: string }
  | { op: 'keys' | 'deletePattern'; pattern: string }
  | { op: 'deleteByTag' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fullKey, value: fc.integer({ min: 0, max: 9 }) }),
  fc.record({
    op: fc.constantFrom(
      'get' as const,
      'delete' as const,
      'has' as const,
      'ttl' as const,
      'incr' as const,
      'touch' as const,
    ),
    key: fullKey,
  }),
  fc.record({ op: fc.constantFrom('keys' as const, 'deletePattern' as const), pattern: patternArb }),
  fc.record({ op: fc.constant('deleteByTag' as const) }),
)

async function apply(store: MemoryStore, op: Op): Promise<unknown> {
  switch (op.op) {
    case 'set':
      return store.set(op.key, op.value, { ttl: null, tags: ['t'] })
    case 'get':
    case 'delete':
    case 'has':
    case 'ttl':
      return store[op.op](op.key)
    case 'incr':
      try {
        return store.incr(op.key, 1, { ttl: null })
      } catch (error) {
        return (error as { code?: string }).code
      }
    case 'touch':
      return store.touch(op.key, 60_000)
    case 'keys': {
      const found: string[] = []
      for await (const key of store.keys(op.pattern)) found.push(key)
      return found.sort()
    }
    case 'deletePattern':
      return store.deletePattern(op.pattern)
    case 'deleteByTag':
      return store.deleteByTag('t')
  }
}

describe('memory store home', () => {
  it('a store with a home answers every call as one without (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const homed = memoryStore()
        const plain = memoryStore()
        expect(homed.scoped(HOME)).toBeDefined()
        for (const op of ops) {
          expect(await apply(homed, op)).toEqual(await apply(plain, op))
        }
        expect(homed.stats().entries).toBe(plain.stats().entries)
      }),
      { numRuns: 300 },
    )
  })

  it('the owning cache, a namespace and a second cache on one store see each other’s writes', async () => {
    const store = memoryStore()
    const owner = createCache({ store, prefix: 'app', ttl: '1h' })
    const users = owner.namespace('user')
    const other = createCache({ store })
    await owner.set('\u0000odd', 1)
    await owner.set('plain', 2)
    await users.set('7', 3)
    expect(await other.get('app:\u0000odd')).toBe(1)
    expect(await other.get('app:plain')).toBe(2)
    expect(await other.get('app:user:7')).toBe(3)
    await other.set('app:plain', 4)
    expect(await owner.get('plain')).toBe(4)
    const keys: string[] = []
    for await (const key of other.keys('*')) keys.push(key)
    expect(keys.sort()).toEqual(['app:\u0000odd', 'app:plain', 'app:user:7'])
    expect(await owner.deletePattern('*')).toBe(3)
    expect(await other.get('app:user:7')).toBeUndefined()
  })

  it('a store that already holds entries takes no home, and only one base is ever home', async () => {
    const used = memoryStore()
    used.set('x', 1, { ttl: null })
    expect(used.scoped('p:')).toBeUndefined()
    const fresh = memoryStore()
    expect(fresh.scoped('p:')).toBeDefined()
    expect(fresh.scoped('q:')).toBeUndefined()
    expect(fresh.scoped('p:')).toBeDefined()
  })

  it('an entry expires within a bounded number of reads in a run that never yields', async () => {
    const store = memoryStore()
    store.set('k', 1, { ttl: 20 })
    const until = performance.now() + 200
    let reads = 0
    let value: unknown = 1
    // No await, no timer: only the call count can refresh the clock's reading.
    while (value !== undefined && performance.now() < until) {
      value = store.get('k')
      reads++
    }
    expect(value).toBeUndefined()
    expect(reads).toBeGreaterThan(0)
  })
})
