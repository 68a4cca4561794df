import { afterAll, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { uniqueTable } from '../../support/sql-servers.js'
import { targets } from '../../support/sql-targets.js'

const all = await targets()

/** Runs of the bar (issue 8): each a cold key read by 100 concurrent getOrSet calls. */
const RUNS = 1000
const CALLERS = 100
/** Runs in progress at once, on distinct keys, to keep the suite's time reasonable. */
const PARALLEL = 4

describe.each(all.map((target) => [target.name, target] as const))(
  'in-process single flight on SQL: %s',
  (_, target) => {
    afterAll(() => target.close())

    // A reader whose query was answered from before the flight's write became visible (another
    // pooled connection) must join the flight, not start a second one.
    it(`${RUNS} runs of ${CALLERS} concurrent getOrSet on a cold key call the factory once each`, async () => {
      const table = uniqueTable()
      // A generous deadline: 400 reads queue for a pool of 4 on a busy machine, and the deadline
      // is not what this measures.
      const store = target.store({ table, pruneInterval: false, separateClient: true, timeout: 20_000 })
      const cache = createCache({ store })
      try {
        await cache.set('warm', 1)
        const extra: string[] = []
        let next = 0
        const worker = async () => {
          for (let run = next++; run < RUNS; run = next++) {
            let calls = 0
            const key = `cold:${run}`
            const factory = async () => {
              calls++
              return { run }
            }
            const results = await Promise.all(
              Array.from({ length: CALLERS }, () => cache.getOrSet(key, factory)),
            )
            if (calls !== 1) extra.push(`${key}: ${calls} calls`)
            if (results.some((r) => r.run !== run)) extra.push(`${key}: wrong value`)
          }
        }
        await Promise.all(Array.from({ length: PARALLEL }, worker))
        expect(extra).toEqual([])
        expect(cache.stats().factoryCalls).toBe(RUNS)
      } finally {
        await cache.close()
        await target.drop(table)
      }
    }, 300_000)
  },
)
