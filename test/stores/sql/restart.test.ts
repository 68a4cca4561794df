import { afterAll, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { uniqueTable } from '../../support/sql-servers.js'
import { targets } from '../../support/sql-targets.js'

const all = await targets()

describe.each(all.map((target) => [target.name, target] as const))(
  'a SQL database that comes back empty: %s',
  (_, target) => {
    afterAll(() => target.close())

    it('with autoMigrate, the store makes its tables again: a miss, then writes work', async () => {
      const table = uniqueTable()
      const cache = createCache({ store: target.store({ table, pruneInterval: false }) })
      try {
        await cache.set('k', 'before', { tags: ['t'] })
        // What a restart on an empty data directory leaves: no table at all.
        await target.drop(table)
        expect(await cache.get('k')).toBeUndefined()
        await cache.set('k', 'after', { tags: ['t'] })
        expect(await cache.get('k')).toBe('after')
        expect(await cache.deleteByTag('t')).toBe(1)
      } finally {
        await cache.close()
        await target.drop(table)
      }
    })
  },
)
