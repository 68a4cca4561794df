import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { type SqlStoreOptions, sqlStore } from '../../../src/stores/sql/index.js'
import { resolveOptions } from '../../../src/stores/sql/options.js'
import { globToLike, globToSqliteGlob } from '../../../src/stores/sql/pattern.js'
import { dialectOfUrl, sqlitePathOfUrl } from '../../../src/stores/sql/url.js'

const bad = (options: unknown) => () => sqlStore(options as SqlStoreOptions)

describe('sqlStore options', () => {
  it('infers the dialect from a URL and reads SQLite paths', () => {
    expect(dialectOfUrl('postgresql://h/db')).toBe('postgres')
    expect(dialectOfUrl('MARIADB://h/db')).toBe('mysql')
    expect(dialectOfUrl('redis://h')).toBeUndefined()
    expect(sqlitePathOfUrl('sqlite::memory:')).toBe(':memory:')
    expect(sqlitePathOfUrl('sqlite:cache.db')).toBe('cache.db')
    expect(sqlitePathOfUrl('sqlite:///var/cache/app.db')).toBe('/var/cache/app.db')
    expect(resolveOptions({ url: 'sqlite::memory:' })).toMatchObject({
      dialect: 'sqlite',
      filename: ':memory:',
    })
    expect(sqlStore({ url: 'sqlite::memory:' }).capabilities.shared).toBe(false)
    expect(sqlStore({ url: 'postgres://u:p@h/db' }).capabilities.shared).toBe(true)
  })

  it('keeps URL passwords as secrets to scrub', () => {
    expect(resolveOptions({ url: 'mysql://u:p%40ss@h/db' }).secrets).toEqual(
      expect.arrayContaining(['p%40ss', 'p@ss']),
    )
    expect(
      resolveOptions({ dialect: 'postgres', connection: { host: 'h', password: 'pw' } }).secrets,
    ).toEqual(['pw'])
  })

  it('rejects bad options with E_INVALID_OPTION at construction', () => {
    const cases: unknown[] = [
      undefined,
      {},
      { dialect: 'oracle', url: 'x' },
      { url: 'redis://localhost' },
      { dialect: 'postgres' },
      { dialect: 'postgres', url: 'postgres://h/db', connection: {} },
      { dialect: 'sqlite', filename: '' },
      { dialect: 'sqlite', filename: 'x.db', table: 'bad-name' },
      { dialect: 'sqlite', filename: 'x.db', table: 'x'.repeat(49) },
      { dialect: 'sqlite', filename: 'x.db', maxEntries: 0 },
      { dialect: 'sqlite', filename: 'x.db', cullFrequency: -1 },
      { dialect: 'sqlite', filename: 'x.db', pruneInterval: '10ms' },
      { dialect: 'sqlite', filename: 'x.db', timeout: 1.5 },
      { dialect: 'sqlite', filename: 'x.db', onError: 'warn' },
      { dialect: 'sqlite', client: {} },
      { dialect: 'mysql', client: { query() {} } },
      // A single pg Client would interleave transactions: only a Pool will do.
      { dialect: 'postgres', client: new pg.Client() },
    ]
    for (const options of cases)
      expect(bad(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
  })

  it('refuses timers of 2^31 ms or more (Node would fire them after 1 ms)', () => {
    for (const options of [
      { timeout: 2 ** 31 },
      { connectTimeout: 2 ** 31 },
      { busyTimeout: 2 ** 31 },
      { pruneInterval: '30d' },
    ]) {
      expect(bad({ dialect: 'sqlite', filename: ':memory:', ...options })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
    }
    expect(resolveOptions({ dialect: 'sqlite', filename: ':memory:', timeout: 2 ** 31 - 1 }).timeout).toBe(
      2 ** 31 - 1,
    )
  })

  it('accepts a pg Pool', async () => {
    const pool = new pg.Pool()
    const store = sqlStore({ dialect: 'postgres', client: pool, pruneInterval: false })
    expect(store.name).toBe('postgres')
    await store.close()
    await pool.end()
  })
})

describe('glob prefilters', () => {
  it('keep literals exactly and widen wildcards', () => {
    const globToLikeCases: [string, string][] = [
      ['user:*', 'user:%'],
      ['a%b_c!d', 'a!%b!_c!!d'],
      ['a?[xy]*z', 'a%z'],
      ['a\\*b\\[', 'a*b['],
      // As in Redis, a class never closed takes the rest of the pattern: one wildcard.
      ['[unclosed', '%'],
    ]
    for (const [input, expected] of globToLikeCases) expect(globToLike(input), input).toBe(expected)
    const globToSqliteGlobCases: [string, string][] = [
      ['user:*', 'user:*'],
      ['a\\*b\\?c\\[d]', 'a[*]b[?]c[[]d]'],
      // `?` and classes match one byte in Redis, which may be part of a character: widened to `*`.
      ['a[^x]b', 'a*b'],
    ]
    for (const [input, expected] of globToSqliteGlobCases)
      expect(globToSqliteGlob(input), input).toBe(expected)
  })
})
