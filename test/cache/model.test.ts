import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../../src/index.js'

/**
 * Model-based tests: random operation sequences run against the real cache (memory store, manual
 * clock) and against a few lines of obviously-correct model; every answer must agree.
 */

const KEYS = ['a', 'b', 'c', 'd', 'e'] as const
const key = fc.constantFrom(...KEYS)
const ttl = fc.constantFrom(null, 10, 100, 1000)

type Op =
  | { op: 'set'; key: string; value: number; ttl: number | null }
  | { op: 'add'; key: string; value: number; ttl: number | null }
  | { op: 'get'; key: string }
  | { op: 'has'; key: string }
  | { op: 'delete'; key: string }
  | { op: 'incr'; key: string; by: number }
  | { op: 'touch'; key: string; ttl: number | null }
  | { op: 'ttl'; key: string }
  | { op: 'advance'; ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer({ min: 0, max: 99 }), ttl }),
  fc.record({ op: fc.constant('add' as const), key, value: fc.integer({ min: 0, max: 99 }), ttl }),
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('has' as const), key }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('incr' as const), key, by: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ op: fc.constant('touch' as const), key, ttl }),
  fc.record({ op: fc.constant('ttl' as const), key }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 5, 50, 500, 2000) }),
)

/** LRU with a TTL per entry: a Map kept in recency order, expiry checked on access. */
class Model {
  readonly entries = new Map<string, { value: number; expiresAt: number | null }>()
  now = 1_700_000_000_000
  constructor(readonly capacity: number) {}

  private live(k: string) {
    const entry = this.entries.get(k)
    if (entry && entry.expiresAt !== null && this.now > entry.expiresAt) return undefined
    return entry
  }
  /** A read: a live entry becomes the most recently used; an expired one is dropped. */
  private use(k: string) {
    const entry = this.entries.get(k)
    if (!entry) return undefined
    this.entries.delete(k)
    if (!this.live0(entry)) return undefined
    this.entries.set(k, entry)
    return entry
  }
  private live0(entry: { expiresAt: number | null }) {
    return entry.expiresAt === null || this.now <= entry.expiresAt
  }
  private write(k: string, value: number, ttl: number | null) {
    if (this.entries.has(k)) this.entries.delete(k)
    else if (this.entries.size >= this.capacity)
      this.entries.delete(this.entries.keys().next().value as string)
    this.entries.set(k, { value, expiresAt: ttl === null ? null : this.now + ttl })
  }

  apply(o: Op): unknown {
    switch (o.op) {
      case 'set':
        this.write(o.key, o.value, o.ttl)
        return undefined
      case 'add':
        if (this.live(o.key)) return false
        this.write(o.key, o.value, o.ttl)
        return true
      case 'get':
        return this.use(o.key)?.value
      case 'has':
        return this.use(o.key) !== undefined
      case 'delete': {
        const existed = this.live(o.key) !== undefined
        this.entries.delete(o.key)
        return existed
      }
      case 'incr': {
        const entry = this.use(o.key)
        if (!entry) {
          this.write(o.key, o.by, null)
          return o.by
        }
        entry.value += o.by
        return entry.value
      }
      case 'touch': {
        const entry = this.use(o.key)
        if (!entry) return false
        entry.expiresAt = o.ttl === null ? null : this.now + o.ttl
        return true
      }
      case 'ttl': {
        const entry = this.live(o.key)
        if (!entry) return undefined
        return entry.expiresAt === null ? null : entry.expiresAt - this.now
      }
      case 'advance':
        this.now += o.ms
        return undefined
    }
  }
}

describe('memory store against a model (property)', () => {
  it('agrees on every answer for random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const model = new Model(3)
        const clock = { now: () => model.now }
        const cache = createCache({ store: memoryStore({ maxEntries: 3, clock }), clock })
        try {
          for (const o of ops) {
            const expected = model.apply(o)
            expect(await run(cache, o), JSON.stringify(o)).toStrictEqual(expected)
          }
        } finally {
          await cache.close()
        }
      }),
      { numRuns: 400 },
    )
  })
})

async function run(cache: ReturnType<typeof createCache>, o: Op): Promise<unknown> {
  switch (o.op) {
    case 'set':
      return cache.set(o.key, o.value, { ttl: o.ttl })
    case 'add':
      return cache.add(o.key, o.value, { ttl: o.ttl })
    case 'get':
    case 'has':
    case 'delete':
    case 'ttl':
      return cache[o.op](o.key)
    case 'incr':
      return cache.incr(o.key, o.by, { ttl: null })
    case 'touch':
      return cache.touch(o.key, o.ttl)
    case 'advance':
      return undefined
  }
}

type GosOp =
  | { op: 'getOrSet'; key: string; ttl: number; callers: number }
  | { op: 'delete'; key: string }
  | { op: 'advance'; ms: number }

const gosOp: fc.Arbitrary<GosOp> = fc.oneof(
  fc.record({
    op: fc.constant('getOrSet' as const),
    key,
    ttl: fc.constantFrom(10, 100, 1000),
    callers: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 50, 500, 5000) }),
)

describe('getOrSet against a model (property)', () => {
  it('calls the factory exactly when the model has no fresh value, once per concurrent batch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(gosOp, { maxLength: 40 }), async (ops) => {
        let now = 1_700_000_000_000
        const clock = { now: () => now }
        const cache = createCache({ store: memoryStore({ clock }), clock })
        const model = new Map<string, { value: number; expiresAt: number }>()
        let produced = 0
        let expectedCalls = 0
        try {
          for (const o of ops) {
            if (o.op === 'advance') now += o.ms
            else if (o.op === 'delete') {
              model.delete(o.key)
              await cache.delete(o.key)
            } else {
              const fresh = model.get(o.key)
              let expected: number
              if (fresh && now <= fresh.expiresAt) expected = fresh.value
              else {
                expectedCalls++
                expected = produced + 1
                model.set(o.key, { value: expected, expiresAt: now + o.ttl })
              }
              const factory = async () => {
                await Promise.resolve()
                return ++produced
              }
              const results = await Promise.all(
                Array.from({ length: o.callers }, () => cache.getOrSet(o.key, factory, { ttl: o.ttl })),
              )
              for (const result of results) expect(result).toBe(expected)
            }
          }
          expect(produced).toBe(expectedCalls)
          expect(cache.stats().factoryCalls).toBe(expectedCalls)
        } finally {
          await cache.close()
        }
      }),
      { numRuns: 300 },
    )
  })
})
