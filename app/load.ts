/**
 * `npm run load`: what the cache buys. Starts the app (a separate process, on the full demo data
 * set in app/data unless APP_DATA_DIR says otherwise) once with the cache and once with
 * `CACHE=off`, drives the same read/write mix with autocannon on loopback, and reports requests
 * per second, p50/p99 latency, database queries per read request, hit rate, and a sample of
 * responses checked against the database. With REDIS_URL set, a Redis run is added.
 *
 * Options (environment): LOAD_DURATION seconds per run (default 15), LOAD_CONNECTIONS (default
 * 16), LOAD_WRITES share of writes (default 0.005), LOAD_OUT a Markdown file for the results.
 */
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { isDeepStrictEqual } from 'node:util'
import autocannon from 'autocannon'
import { environment } from '../bench/lib/env.js'
import { readSections, renderSection, writeResults } from '../bench/lib/results-file.js'
import { loadConfig } from './config.js'
import { openDb } from './db/sql.js'
import { financeQueries } from './services/finance.js'
import { type AppProcess, spawnApp } from './spawn.js'
import { login } from './test/http.js'

const duration = Number(process.env['LOAD_DURATION'] ?? 15)
const connections = Number(process.env['LOAD_CONNECTIONS'] ?? 16)
const writeShare = Number(process.env['LOAD_WRITES'] ?? 0.005)
const USERS = 20
const config = loadConfig(process.env)
const UNLIMITED = '100000000/hour'

interface Stats {
  requests: number
  reads: number
  dbQueries: number
  dbReadQueries: number
  cache: { hits: number; misses: number }
}
interface RunResult {
  name: string
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  readQueriesPerRead: number
  queriesPerRequest: number
  hitRate: number | undefined
  checked: number
  mismatches: number
}

const stats = async (base: string) => (await (await fetch(`${base}/ops/stats`)).json()) as Stats

async function run(name: string, env: Record<string, string>): Promise<RunResult> {
  const passthrough = Object.fromEntries(
    ['DATABASE_URL', 'DATABASE_SCHEMA', 'APP_DATA_DIR', 'APP_DATA_SIZE'].flatMap((k) =>
      process.env[k] ? [[k, process.env[k]!]] : [],
    ),
  )
  console.log(`\n[${name}] starting the app…`)
  const app: AppProcess = await spawnApp(
    {
      ...passthrough,
      THROTTLE_ANON: UNLIMITED,
      THROTTLE_USER: UNLIMITED,
      THROTTLE_STAFF: UNLIMITED,
      THROTTLE_LOGIN: UNLIMITED,
      // A prefix per run: entries a previous run left in a shared Redis were never invalidated by
      // the writes other runs made to the same database.
      CACHE_PREFIX: `load${Date.now().toString(36)}`,
      ...env,
    },
    600_000,
  )
  for (const line of app.logs) if (line.startsWith('  ') || line.startsWith('cache')) console.log(line)
  try {
    const users = [await login(app.url, 'demo')]
    for (let u = 2; users.length < USERS; u++)
      users.push(await login(app.url, `user${String(u).padStart(2, '0')}`))
    const ids = await Promise.all(users.map(async (c) => (await c.json<{ id: number }>('/api/me')).id))
    const accounts = await Promise.all(users.map((c) => c.json<{ id: number }[]>('/api/accounts')))
    const leaves = await Promise.all(
      users.map(async (c) => {
        const tree = await c.json<{ id: number; children: { children: { id: number }[] }[] }[]>(
          '/api/categories?type=expense&depth=3',
        )
        return tree.flatMap((t) => t.children.flatMap((ch) => ch.children.map((l) => l.id)))
      }),
    )
    const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!
    const mix = (request: autocannon.Request): autocannon.Request => {
      const i = Math.floor(Math.random() * USERS)
      const headers = { cookie: users[i]!.cookie, 'content-type': 'application/json' }
      const r = Math.random()
      if (r < writeShare) {
        const body = JSON.stringify({
          accountId: pick(accounts[i]!).id,
          categoryId: pick(leaves[i]!),
          type: 'expense',
          amount: 1 + Math.floor(Math.random() * 5000),
          note: 'load',
        })
        return { ...request, method: 'POST', path: '/api/transactions', headers, body }
      }
      const reads = [
        '/api/stats',
        '/api/stats',
        `/api/categories?type=${Math.random() < 0.5 ? 'expense' : 'income'}&depth=3`,
        '/api/accounts',
        `/api/transactions?page=${1 + Math.floor(Math.random() * 3)}`,
      ]
      return { ...request, method: 'GET', path: pick(reads), headers, body: undefined }
    }
    const cannon = (seconds: number) =>
      autocannon({ url: app.url, connections, duration: seconds, requests: [{ setupRequest: mix }] })
    // Warm-up: every user's pages once (the cache starts cold; CACHE=off does the same work), then 3 s of the mix.
    for (const c of users) {
      for (const path of [
        '/api/stats',
        '/api/categories?type=expense&depth=3',
        '/api/categories?type=income&depth=3',
        '/api/accounts',
        '/api/transactions?page=1',
        '/api/transactions?page=2',
        '/api/transactions?page=3',
      ]) {
        await c.json(path)
      }
    }
    console.log(
      `[${name}] warming up 3 s, then ${duration} s with ${connections} connections (${writeShare * 100}% writes)…`,
    )
    await cannon(3)
    const before = await stats(app.url)
    const result = await cannon(duration)
    const after = await stats(app.url)
    const hits = after.cache.hits - before.cache.hits
    const misses = after.cache.misses - before.cache.misses
    const reads = after.reads - before.reads

    // Correctness: a sample of responses against the database, read directly.
    const db = await openDb({
      url: config.databaseUrl,
      file: `${config.dataDir}/finance.db`,
      schema: config.databaseSchema,
    })
    const q = financeQueries(db)
    let checked = 0
    let mismatches = 0
    for (let i = 0; i < USERS; i += 2) {
      const c = users[i]!
      const id = ids[i]!
      const pairs: [string, unknown][] = [
        ['/api/stats', await q.stats(id)],
        ['/api/accounts', await q.accounts(id)],
        ['/api/categories?type=expense&depth=3', await q.categoryTree(id, 'expense', 3)],
        ['/api/transactions?page=1', await q.transactions(id, 1)],
      ]
      for (const [path, expected] of pairs) {
        checked++
        if (!isDeepStrictEqual(await c.json(path), expected)) {
          mismatches++
          // Stale for good, or only for a moment? Ask again a little later.
          await new Promise((resolve) => setTimeout(resolve, 1500))
          const later = isDeepStrictEqual(await c.json(path), expected)
          console.log(
            `[${name}] MISMATCH for user ${id} on ${path} (${later ? 'fresh 1.5 s later' : 'still stale 1.5 s later'})`,
          )
        }
      }
    }
    await db.close()
    const errors = app.logs.filter((line) => line.startsWith('error on') || line.includes('[cachekit'))
    if (errors.length > 0) {
      console.log(
        `[${name}] ${errors.length} error lines in the app's log, first:\n${errors.slice(0, 3).join('\n')}`,
      )
    }
    return {
      name,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      readQueriesPerRead: (after.dbReadQueries - before.dbReadQueries) / Math.max(1, reads),
      queriesPerRequest: (after.dbQueries - before.dbQueries) / Math.max(1, after.requests - before.requests),
      hitRate: hits + misses > 0 ? hits / (hits + misses) : undefined,
      checked,
      mismatches,
    }
  } finally {
    await app.stop()
  }
}

const loadBefore = os.loadavg()[0] ?? 0
const results: RunResult[] = []
const only = process.env['LOAD_ONLY'] // e.g. 'l1' to run one configuration
if (!only) {
  results.push(await run('memory cache', {}))
  results.push(await run('CACHE=off', { CACHE: 'off' }))
}
if (only === 'l1') {
  results.push(
    await run('Redis + L1', {
      REDIS_URL: process.env['REDIS_URL'] ?? '',
      CACHE_L1: 'true',
      CACHE_FALLBACK_URL: 'none',
    }),
  )
} else if (process.env['REDIS_URL']) {
  results.push(await run('Redis cache', { REDIS_URL: process.env['REDIS_URL'] }))
  results.push(
    await run('Redis + L1', {
      REDIS_URL: process.env['REDIS_URL'],
      CACHE_L1: 'true',
      CACHE_FALLBACK_URL: 'none',
    }),
  )
}

const off = results.find((r) => r.name === 'CACHE=off') ?? results[0]!
const fmt = (n: number, digits = 1) =>
  n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const lines = [
  `| run | req/s | p50 ms | p99 ms | DB queries / read request | DB queries / request (all) | hit rate | errors / non-2xx | responses checked |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.rps, 0)} | ${r.p50} | ${r.p99} | ${fmt(r.readQueriesPerRead, 3)} | ${fmt(r.queriesPerRequest, 3)} | ${r.hitRate === undefined ? '–' : `${fmt(r.hitRate * 100)}%`} | ${r.errors} / ${r.non2xx} | ${r.checked - r.mismatches}/${r.checked} |`,
  ),
  '',
  ...results
    .filter((r) => r !== off)
    .map(
      (r) =>
        `- ${r.name} vs CACHE=off: ${fmt((1 - r.readQueriesPerRead / off.readQueriesPerRead) * 100)}% fewer DB queries per read request, ` +
        `p99 ${fmt(off.p99 / Math.max(r.p99, 0.001))}× lower, ${fmt(r.rps / off.rps)}× the requests per second.`,
    ),
]
const header = `${USERS} signed-in users, ${connections} connections, ${duration} s per run after a 3 s warm-up, ${writeShare * 100}% writes (POST /api/transactions), reads spread over /api/stats (2/5), /api/categories, /api/accounts, /api/transactions?page=1..3.`
console.log(`\n${header}\n\n${lines.join('\n')}`)
if (process.env['LOAD_OUT']) writeFileSync(process.env['LOAD_OUT'], `${header}\n\n${lines.join('\n')}\n`)
// Section 13 of bench/RESULTS.md (LOAD_RESULTS=0 leaves the file alone; LOAD_ONLY runs never write it).
if (!only && process.env['LOAD_RESULTS'] !== '0') {
  const targets = results
    .filter((r) => r !== off)
    .flatMap((r) => {
      const fewer = 1 - r.readQueriesPerRead / off.readQueriesPerRead
      const p99 = off.p99 / Math.max(r.p99, 0.001)
      return [
        {
          name: `${r.name}: DB queries per read request vs CACHE=off`,
          goal: '>= 90% fewer',
          measured: `${fmt(fewer * 100)}% fewer`,
          met: fewer >= 0.9,
        },
        {
          name: `${r.name}: p99 latency vs CACHE=off`,
          goal: '>= 3x lower',
          measured: `${fmt(p99)}x lower`,
          met: p99 >= 3,
        },
        {
          name: `${r.name}: hit rate on reads`,
          goal: '>= 95%',
          measured: r.hitRate === undefined ? '–' : `${fmt(r.hitRate * 100)}%`,
          met: (r.hitRate ?? 0) >= 0.95,
        },
        {
          name: `${r.name}: sampled responses equal to the database`,
          goal: 'all',
          measured: `${r.checked - r.mismatches}/${r.checked}`,
          met: r.mismatches === 0 && r.checked > 0,
        },
      ]
    })
  const file = new URL('../bench/RESULTS.md', import.meta.url).pathname
  const env = environment('the reference app (app/, through tsx)')
  const section = renderSection(
    'app-load',
    '13. The reference app under load: what the cache buys (`npm run load`)',
    env,
    `Command: \`npm run load\`${process.env['REDIS_URL'] ? ' with `REDIS_URL` set (a loopback redis-server)' : ''}; SQLite (better-sqlite3) on the full demo data set. ${header}\n\n${lines.join('\n')}`,
    targets,
    [loadBefore, os.loadavg()[0] ?? 0],
  )
  const kept = (await readSections(file)).filter((s) => s.name !== 'app-load')
  const sections = [...kept, section].sort((a, b) => a.title.localeCompare(b.title, 'en', { numeric: true }))
  await writeResults(file, env, sections)
  console.log(`\nwrote section 13 of ${file}`)
}
const failed = results.some((r) => r.mismatches > 0 || r.errors > 0)
process.exit(failed ? 1 : 0)
