import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { privateStateMap } from '../../src/ratelimit/backend.js'
import { MemoryRateBackend } from '../../src/ratelimit/memory-backend.js'
import { type Algorithm, parseRuleSet } from '../../src/ratelimit/rules.js'
import { SqlRateBackend } from '../../src/ratelimit/sql-backend.js'
import { BACKING } from '../../src/stores/index.js'
import type { SqlStore } from '../../src/stores/sql/index.js'
import { uniqueTable } from '../support/sql-servers.js'
import { type Target, targets } from '../support/sql-targets.js'

/**
 * The SQL backend against the memory backend: the same random sequences of consumes, peeks,
 * rewards, penalties, blocks, resets and clock steps, on both, with one controlled clock (the SQL
 * backend takes it instead of the database's), must give the same outcomes. The SQL side goes
 * through the real tables: JSON round trips, expiry by `expires_at`, row locking.
 */

type Op =
  | { readonly kind: 'consume' | 'peek'; readonly key: number; readonly cost: number }
  | { readonly kind: 'reward' | 'penalty'; readonly key: number; readonly points: number }
  | { readonly kind: 'block'; readonly key: number; readonly ms: number }
  | { readonly kind: 'reset'; readonly key: number }
  | { readonly kind: 'wait'; readonly ms: number }
  /** Concurrent consumes in one tick: one transaction on the SQL side, in call order on the memory side. */
  | { readonly kind: 'burst'; readonly keys: readonly number[]; readonly cost: number }

const key = fc.integer({ min: 0, max: 2 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('consume' as const),
      key,
      cost: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('peek' as const), key, cost: fc.integer({ min: 0, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('reward' as const, 'penalty' as const),
      key,
      points: fc.integer({ min: 0, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('block' as const), key, ms: fc.integer({ min: 1, max: 5000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), key }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      keys: fc.array(key, { minLength: 2, maxLength: 8 }),
      cost: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
  },
)

const algorithms: Algorithm[] = ['gcra', 'token-bucket', 'fixed-window', 'sliding-window']
const scenarioArb = fc.record({
  algorithm: fc.constantFrom(...algorithms),
  limit: fc.integer({ min: 3, max: 6 }),
  windowMs: fc.constantFrom(1000, 3000),
  blockMs: fc.constantFrom(0, 0, 2500),
  second: fc.boolean(), // a second, longer policy
  ops: fc.array(opArb, { minLength: 1, maxLength: 30 }),
})

const all = await targets()
const RUNS: Record<Target['name'], number> = { sqlite: 100, postgres: 25, mysql: 25 }

describe.each(all.map((target) => [target.name, target] as const))(
  'SQL backend = memory backend on %s',
  (name, target) => {
    const table = uniqueTable()
    let store: SqlStore
    beforeAll(async () => {
      store = target.store({ table })
      await store.migrate()
    })
    afterAll(async () => {
      await store.close()
      await target.drop(table)
    })

    it('same outcomes for random op sequences (controlled clock)', async () => {
      const backing = store[BACKING]()
      if (backing.kind !== 'sql') throw new Error('not a SQL backing')
      let run = 0
      await fc.assert(
        fc.asyncProperty(scenarioArb, async ({ algorithm, limit, windowMs, blockMs, second, ops }) => {
          run++
          const rules = [
            { limit, window: `${windowMs}ms`, algorithm, ...(blockMs ? { blockFor: `${blockMs}ms` } : {}) },
          ]
          if (second) rules.push({ limit: limit * 3, window: `${windowMs * 4}ms`, algorithm })
          const policies = parseRuleSet('s', rules)
          let now = 1_700_000_000_000 + run * 1_000_000_000 // fresh keys per run: no state carried over
          const clock = { now: () => now }
          const memory = new MemoryRateBackend(privateStateMap(clock), clock)
          const sql = new SqlRateBackend(backing.state, clock)
          const base = (k: number) => `model:${table}:${run}:{s:${k}}`
          for (const op of ops) {
            switch (op.kind) {
              case 'wait':
                now += op.ms
                break
              case 'consume':
              case 'peek': {
                const want = await memory.decide(base(op.key), policies, op.cost, op.kind)
                const got = await sql.decide(base(op.key), policies, op.cost, op.kind)
                expect(got).toEqual(want)
                break
              }
              case 'reward':
              case 'penalty': {
                const points = op.kind === 'reward' ? -op.points : op.points
                await memory.adjust(base(op.key), policies, points)
                await sql.adjust(base(op.key), policies, points)
                break
              }
              case 'block':
                await memory.block(base(op.key), op.ms)
                await sql.block(base(op.key), op.ms)
                break
              case 'reset':
                await memory.reset(base(op.key), policies)
                await sql.reset(base(op.key), policies)
                break
              case 'burst': {
                const want = []
                for (const k of op.keys) want.push(await memory.decide(base(k), policies, op.cost, 'consume'))
                const got = await Promise.all(
                  op.keys.map((k) => sql.decide(base(k), policies, op.cost, 'consume')),
                )
                expect(got).toEqual(want)
                break
              }
            }
          }
        }),
        { numRuns: RUNS[name] },
      )
    }, 120_000)
  },
)
