import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { sqlStore } from '../../../src/stores/sql/index.js'
import { tempDir } from '../../support/sql-servers.js'

/**
 * Another connection holds SQLite's write lock: the store waits for it on timers, never blocking
 * the event loop, and gives up at its call deadline.
 */
describe('SQLite while another connection holds the write lock', () => {
  const temp = tempDir()
  afterAll(() => temp.remove())

  /** Runs `work` while a timer ticks every 10 ms; resolves to the longest gap between ticks. */
  const longestGap = async (work: () => Promise<unknown>) => {
    let last = Date.now()
    let gap = 0
    const ticker = setInterval(() => {
      const now = Date.now()
      gap = Math.max(gap, now - last)
      last = now
    }, 10)
    try {
      await work()
    } finally {
      clearInterval(ticker)
    }
    return Math.max(gap, Date.now() - last)
  }

  it.each([
    ['a file the store opens', false],
    ["the caller's client (busy_timeout 5 s)", true],
  ])(
    '%s: the loop keeps running, the call fails at its deadline, and works once the lock is gone',
    async (_, client) => {
      const file = join(temp.dir, `busy-${client ? 'client' : 'file'}.db`)
      const own = new Database(file, { timeout: 5000 })
      own.pragma('journal_mode = WAL')
      const store = client
        ? sqlStore({ dialect: 'sqlite', client: own, timeout: 400 })
        : sqlStore({ dialect: 'sqlite', filename: file, timeout: 400 })
      const cache = createCache({ store })
      const other = new Database(file)
      try {
        await cache.set('k', 'before')
        other.exec('BEGIN IMMEDIATE')
        let outcome: unknown
        const started = Date.now()
        const gap = await longestGap(async () => {
          outcome = await cache.set('k', 'during').then(
            () => 'written',
            (error: { code?: string }) => error.code,
          )
        })
        const took = Date.now() - started
        expect(outcome).toBe('E_STORE_UNAVAILABLE')
        // The deadline, not busyTimeout (5 s); and no timer was held up for anything like it.
        expect(took).toBeGreaterThanOrEqual(350)
        expect(took).toBeLessThan(2000)
        expect(gap).toBeLessThan(250)
        // Reads are not blocked by a writer under WAL.
        expect(await cache.get('k')).toBe('before')
        other.exec('COMMIT')
        await cache.set('k', 'after')
        expect(await cache.get('k')).toBe('after')
        if (client) expect(own.pragma('busy_timeout', { simple: true })).toBe(5000)
      } finally {
        if (other.inTransaction) other.exec('ROLLBACK')
        other.close()
        await cache.close()
        own.close()
      }
    },
  )

  it('a lock held briefly is waited for: the write succeeds', async () => {
    const file = join(temp.dir, 'brief.db')
    const cache = createCache({ store: sqlStore({ dialect: 'sqlite', filename: file, timeout: 2000 }) })
    const other = new Database(file)
    try {
      await cache.set('k', 0)
      other.exec('BEGIN IMMEDIATE')
      setTimeout(() => other.exec('COMMIT'), 200)
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
    } finally {
      other.close()
      await cache.close()
    }
  })
})
