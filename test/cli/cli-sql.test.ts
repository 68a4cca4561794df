/**
 * `cachekit` as a subprocess against SQL stores: SQLite, PostgreSQL and MariaDB/MySQL (the machine's
 * servers, see test/support/sql-servers.ts). `check` before `migrate` finds the missing table (exit 3),
 * `migrate` creates it (twice: idempotent), then every data command, `--json` parsed.
 */
import { join } from 'node:path'
import { createCache } from 'cachekit'
import { type SqlStore, sqlStore } from 'cachekit/sql'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { runCli } from '../support/cli.js'
import {
  dropMysql,
  dropPostgres,
  mysqlUrl,
  postgresUrl,
  tempDir,
  uniqueTable,
} from '../support/sql-servers.js'

// Each test runs the CLI several times as a subprocess: seconds each on a busy machine.
vi.setConfig({ testTimeout: 120_000 })

const sqlite = tempDir()
const targets = [
  { name: 'SQLite', url: `sqlite:${join(sqlite.dir, 'cache.db')}`, drop: async () => sqlite.remove() },
  ...(await postgresUrl().then((url) =>
    url ? [{ name: 'PostgreSQL', url, drop: (table: string) => dropWith('pg', url, table) }] : [],
  )),
  ...(await mysqlUrl().then((url) =>
    url ? [{ name: 'MariaDB', url, drop: (table: string) => dropWith('mysql', url, table) }] : [],
  )),
]

async function dropWith(kind: 'pg' | 'mysql', url: string, table: string): Promise<void> {
  if (kind === 'pg') {
    const pool = new pg.Pool({ connectionString: url })
    await dropPostgres(pool, table).finally(() => pool.end())
  } else {
    const pool = mysql.createPool({ uri: url })
    await dropMysql(pool, table).finally(() => pool.end())
  }
}

describe.each(targets)('cachekit CLI on $name', ({ url, drop }) => {
  const table = uniqueTable()
  const prefix = `cli${process.pid}`
  let store: SqlStore | undefined
  const cli = (args: string[], input?: string) =>
    runCli(
      ['--url', url, '--table', table, '--prefix', prefix, ...args],
      input === undefined ? {} : { input },
    )

  afterAll(async () => {
    await store?.close()
    await drop(table)
  })

  it('check finds the missing table (exit 3); migrate creates it, idempotently; then check passes', async () => {
    const before = await cli(['--json', 'check'])
    expect(before.code).toBe(3)
    const findings = before.json<{ findings: { name: string; status: string; fix?: string }[] }>().findings
    expect(findings.find((f) => f.name === 'table')).toMatchObject({ status: 'error' })
    expect(findings.find((f) => f.name === 'table')?.fix).toContain('cachekit migrate')
    for (let i = 0; i < 2; i++) {
      const migrated = await cli(['--json', 'migrate'])
      expect(migrated.code).toBe(0)
      expect(migrated.json()).toMatchObject({ ok: true, table, tagsTable: `${table}_tags` })
    }
    const after = await cli(['--json', 'check'])
    const problems = after
      .json<{ findings: { name: string; status: string }[] }>()
      .findings.filter((f) => f.status !== 'ok' && f.name !== 'latency') // a busy machine may be slow
    expect(problems).toEqual([])
    expect(after.code).toBe(0)
  })

  it('every data command', async () => {
    store = sqlStore({ url, table, autoMigrate: false } as never)
    const cache = createCache({ store, prefix })
    await cache.set('user:1', { name: 'Ann', joined: new Date('2024-05-01T00:00:00Z') }, { ttl: '1h' })
    await cache.set('user:2', 'Bob')
    await cache.setMany({ 'tmp:1': 1, 'tmp:2': 2, 'tmp:3': 3 })

    expect((await cli(['--json', 'ping'])).json()).toMatchObject({ ok: true, store: 'sql' })
    const stats = await cli(['--json', 'stats'])
    expect(stats.code).toBe(0)
    expect(stats.json()).toMatchObject({ store: 'sql', keys: 5 })

    const keys = (await cli(['--json', 'keys', 'user:*'])).json<{ keys: string[] }>()
    expect(keys.keys.sort()).toEqual(['user:1', 'user:2'])
    const got = await cli(['--json', 'get', 'user:1'])
    expect(got.json()).toMatchObject({
      found: true,
      value: { name: 'Ann', joined: '2024-05-01T00:00:00.000Z' },
    })
    expect((await cli(['--json', 'get', 'nope'])).code).toBe(1)
    expect((await cli(['--json', 'ttl', 'user:1'])).json<{ ttlMs: number }>().ttlMs).toBeGreaterThan(
      3_000_000,
    )
    expect((await cli(['--json', 'ttl', 'user:2'])).json()).toMatchObject({ ttlMs: null })
    expect((await cli(['--json', 'del', 'user:2'])).json()).toMatchObject({ deleted: 1 })

    const dry = await cli(['--json', 'clear', '--pattern', 'tmp:*', '--dry-run'])
    expect(dry.json()).toMatchObject({ matched: 3, deleted: 0 })
    const cleared = await cli(['--json', 'clear', '--pattern', 'tmp:*', '--yes'])
    expect(cleared.code).toBe(0)
    expect(cleared.json()).toMatchObject({ matched: 3, deleted: 3 })
    expect((await cli(['--json', 'keys'])).json<{ keys: string[] }>().keys).toEqual(['user:1'])

    const bench = await cli(['--json', 'bench', '--duration', '0.5', '--concurrency', '2'])
    expect(bench.code).toBe(0)
    expect(bench.json<{ ops: number }>().ops).toBeGreaterThan(0)
    expect((await cli(['--json', 'keys', 'cachekit-bench:*'])).json<{ count: number }>().count).toBe(0)

    expect((await cli(['unlock', '--ip', '192.0.2.1'])).code).toBe(2)
  })
})
