import Database from 'better-sqlite3'
import fc from 'fast-check'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { matchGlob } from '../../../src/index.js'
import { globToLike, globToSqliteGlob } from '../../../src/stores/sql/pattern.js'
import { mysqlUrl, postgresUrl } from '../../support/sql-servers.js'

/**
 * The prefilters may match more than the glob, never less: every key the glob matches must pass
 * the database's own LIKE or GLOB. Checked on random keys and globs by the databases themselves.
 */
const alphabet = fc.constantFrom('a', 'b', 'A', 'é', '日', '%', '_', '!', '*', '?', '[', ']', '\\', '^', ':')
const text = fc.array(alphabet, { maxLength: 8 }).map((chars) => chars.join(''))
/** A glob and a key it matches: the key is the glob with wildcards filled in. */
const matching = fc
  .tuple(text, text)
  .map(([glob, fill]) => {
    const key = glob.replace(/\\(.)|\*|\?|\[[^\]]+\]/g, (m, escaped: string | undefined) => {
      if (escaped !== undefined) return escaped
      if (m === '*') return fill
      if (m === '?') return fill[0] ?? 'x'
      const body = m.slice(1, -1)
      return body.startsWith('^') || body.startsWith('!') ? '~' : (body[0] as string)
    })
    return { glob, key }
  })
  .filter(({ glob, key }) => key !== '' && matchGlob(glob, key))
const samples = fc.sample(matching, { numRuns: 200, seed: 42 })
const pgUrl = await postgresUrl()
const myUrl = await mysqlUrl()

describe('glob prefilters never miss a match', () => {
  it('sqlite GLOB and LIKE', () => {
    const db = new Database(':memory:')
    const glob = db.prepare('SELECT ? GLOB ? AS ok')
    const like = db.prepare("SELECT ? LIKE ? ESCAPE '!' AS ok")
    fc.assert(
      fc.property(matching, ({ glob: pattern, key }) => {
        expect((glob.get(key, globToSqliteGlob(pattern)) as { ok: number }).ok).toBe(1)
        expect((like.get(key, globToLike(pattern)) as { ok: number }).ok).toBe(1)
      }),
      { numRuns: 500 },
    )
    db.close()
  })

  it.skipIf(pgUrl === undefined)('postgres LIKE (COLLATE "C")', async () => {
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    for (const { glob, key } of samples) {
      const { rows } = await client.query(`SELECT ($1::text COLLATE "C") LIKE $2 ESCAPE '!' AS ok`, [
        key,
        globToLike(glob),
      ])
      expect(rows[0].ok, `${key} / ${glob}`).toBe(true)
    }
    await client.end()
  })

  it.skipIf(myUrl === undefined)('mysql LIKE on binary', async () => {
    const connection = await mysql.createConnection({ uri: myUrl })
    for (const { glob, key } of samples) {
      const [rows] = await connection.query("SELECT CAST(? AS BINARY) LIKE ? ESCAPE '!' AS ok", [
        key,
        globToLike(glob),
      ])
      expect((rows as { ok: number }[])[0]?.ok, `${key} / ${glob}`).toBe(1)
    }
    await connection.end()
  })
})
