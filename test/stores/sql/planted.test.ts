import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { CacheError, createCache, memoryStore } from '../../../src/index.js'
import { sqlStore } from '../../../src/stores/sql/index.js'

/** Bytes written straight into the SQL table under a cache's key, as another program could. */
describe('bytes planted in an SQL store', () => {
  it('read as a value or a miss within 100 ms, never an untyped error, alone and as L2 (property)', async () => {
    const store = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
    const plain = createCache({ store, prefix: 'plain' })
    const l2 = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
    const tiered = createCache({ tiers: [memoryStore(), l2] })
    let node: unknown = { leaf: 1 }
    for (let i = 0; i < 40; i++) node = [node, node]
    const bomb = Buffer.concat([Buffer.from([0xc1, 1, 0]), new Packr({ structuredClone: true }).pack(node)])
    const bytes = fc.oneof(
      fc.constant(bomb),
      fc.uint8Array({ maxLength: 500 }),
      fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.concat([Buffer.from([0xc1, 1, 0]), b])),
    )
    const underlying = (cache: typeof plain) => (cache === plain ? store : l2)
    for (const cache of [plain, tiered]) {
      await fc.assert(
        fc.asyncProperty(bytes, async (planted) => {
          const read = async () => {
            await cache.delete('victim') // so the tiered cache's L1 holds nothing from the last round
            await underlying(cache).set(cache.makeKey('victim'), planted, { ttl: null })
            const start = performance.now()
            try {
              const value = await cache.get('victim')
              if (planted === bomb) expect(value).toBeUndefined()
            } catch (error) {
              expect(error).toBeInstanceOf(CacheError)
            }
            return performance.now() - start
          }
          // A busy machine can stall one read; an entry slow to decode is slow every time.
          let ms = await read()
          if (ms >= 100) ms = Math.min(ms, await read())
          expect(ms).toBeLessThan(100)
        }),
        { numRuns: 200 },
      )
    }
    await plain.close()
    await tiered.close()
  })
})
