/**
 * What the end-to-end suites share: the app in-process on a small data set, or two app processes
 * on one private Redis and a fresh PostgreSQL schema or MariaDB database (a {@link Deployment}).
 * The HTTP side (client, admin page, balance stream) is in http.ts.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocks, type Locks } from 'cachekit/lock'
import { redisStore } from 'cachekit/redis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type RedisServer, redisAvailable, startRedis } from '../../test/support/redis.js'
import { mysqlUrl, postgresUrl } from '../../test/support/sql-servers.js'
import { loadConfig } from '../config.js'
import { type Db, openDb } from '../db/sql.js'
import { type RunningApp, startApp } from '../server.js'
import { type FinanceQueries, financeQueries } from '../services/finance.js'
import { spawnApp } from '../spawn.js'

export interface TestApp extends RunningApp {
  /** Every line the app logged (PINs included). */
  readonly logs: string[]
}

/** The defaults of `npm start`, on a small data set, plus `env`. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'refapp-test-'))
  const logs: string[] = []
  const app = await startApp(
    loadConfig({ APP_DATA_DIR: dir, APP_DATA_SIZE: 'small', PORT: '0', ...env }),
    (line) => void logs.push(line),
  )
  return {
    ...app,
    logs,
    url: app.url,
    services: app.services,
    server: app.server,
    async close() {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The app as a suite sees it: two entry points to alternate requests between (`a`, `b`: two
 * processes sharing Redis and the database, or the same in-process app twice), and the database
 * read directly, apart from the app (its query counter is the app's alone).
 */
export interface Deployment {
  readonly a: string
  readonly b: string
  /** Every line the apps logged so far (PINs included). */
  logs(): string[]
  /** The app's queries on its own connection to the same database: what a cached answer must equal. */
  readonly queries: FinanceQueries
  readonly db: Db
  /** Locks on the store the apps lock transfers in (theirs in-process; a third client of Redis). */
  readonly locks: Locks
  /** The app itself when in-process, for the checks of its internals; else undefined. */
  readonly app: TestApp | undefined
  /** The private Redis of the two processes; else undefined. */
  readonly redis: RedisServer | undefined
  close(): Promise<void>
}

/** A way to run the app: `start` gives a deployment for one suite, with the suite's `env`. */
export interface Target {
  readonly name: string
  start(env: Record<string, string>): Promise<Deployment>
}

/** The app in this process on SQLite and memory: `npm start`'s defaults. */
export const inProcess: Target = { name: 'in-process on SQLite and memory', start: startInProcess }

/**
 * Where the seed suites run: in-process on SQLite and memory always; two processes on Redis and
 * PostgreSQL (and, with `mariadb`, on Redis and MariaDB) when the servers are here. Under `CI=true`
 * they must be: a missing server throws instead of leaving a suite out.
 */
export async function targets(options: { mariadb?: boolean } = {}): Promise<Target[]> {
  const out: Target[] = [inProcess]
  for (const database of options.mariadb ? (['postgres', 'mariadb'] as const) : (['postgres'] as const)) {
    const target = await twoProcesses(database)
    if (target) out.push(target)
  }
  return out
}

const DATABASES = {
  postgres: { label: 'PostgreSQL', find: postgresUrl, fresh: freshPostgres },
  mariadb: { label: 'MariaDB', find: mysqlUrl, fresh: freshMariaDb },
}

/** Two app processes on a private Redis and `database`, or undefined when a server is missing. */
export async function twoProcesses(database: keyof typeof DATABASES): Promise<Target | undefined> {
  if (!redisAvailable()) return undefined
  const { label, find, fresh } = DATABASES[database]
  const url = await find()
  if (!url) return undefined
  return {
    name: `two processes on Redis and ${label}`,
    start: async (env) => startTwoProcesses(await fresh(url), env),
  }
}

/**
 * Starts `target` before the enclosing describe's tests and stops it after them. The returned
 * object is filled in by then (read its fields inside tests, not while registering them).
 */
export function useDeployment(target: Target, env: Record<string, string> = {}): Deployment {
  const deployment = {} as Deployment
  beforeAll(async () => {
    Object.assign(deployment, await target.start(env))
  }, 180_000)
  afterEach(({ task }) => {
    if (task.result?.state === 'fail' && deployment.logs)
      console.error(`${target.name}, the apps' last log lines:\n${deployment.logs().slice(-40).join('\n')}`)
  })
  afterAll(async () => {
    await deployment.close?.()
  })
  return deployment
}

/** Undo steps run last-first, so a start that fails half-way leaves nothing behind. */
class Teardown {
  readonly #steps: (() => Promise<unknown> | unknown)[] = []
  defer(step: () => Promise<unknown> | unknown): void {
    this.#steps.push(step)
  }
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => {})
  }
  /** `build`, or on failure every step deferred so far and the error. */
  async guard<T>(build: () => Promise<T>): Promise<T> {
    try {
      return await build()
    } catch (error) {
      await this.run()
      throw error
    }
  }
}

async function startInProcess(env: Record<string, string>): Promise<Deployment> {
  const app = await startTestApp(env)
  const { config } = app.services
  const teardown = new Teardown()
  teardown.defer(() => app.close())
  const db = await teardown.guard(() =>
    openDb({
      url: config.databaseUrl,
      file: join(config.dataDir, 'finance.db'),
      schema: config.databaseSchema,
    }),
  )
  teardown.defer(() => db.close())
  return {
    a: app.url,
    b: app.url,
    logs: () => [...app.logs],
    queries: financeQueries(db),
    db,
    locks: app.services.locks,
    app,
    redis: undefined,
    close: () => teardown.run(),
  }
}

/** The two processes share one private Redis and `database`; the first one migrates and seeds it. */
async function startTwoProcesses(database: FreshDatabase, env: Record<string, string>): Promise<Deployment> {
  const teardown = new Teardown()
  teardown.defer(() => database.drop())
  return teardown.guard(async () => {
    const redis = await startRedis()
    teardown.defer(() => redis.stop())
    const dir = mkdtempSync(join(tmpdir(), 'refapp-2p-'))
    teardown.defer(() => rmSync(dir, { recursive: true, force: true }))
    const full: Record<string, string> = {
      REDIS_URL: redis.url,
      ...database.env,
      APP_DATA_DIR: dir,
      APP_DATA_SIZE: 'small',
      // Not the default "database": in PostgreSQL that would be a table outside the test's schema.
      CACHE_FALLBACK_URL: `sqlite:${join(dir, 'fallback.db')}`,
      ...env,
    }
    const a = await spawnApp(full) // migrates and seeds
    teardown.defer(() => a.stop())
    const b = await spawnApp(full)
    teardown.defer(() => b.stop())
    const config = loadConfig(full)
    const db = await openDb({ url: config.databaseUrl, file: '', schema: config.databaseSchema })
    teardown.defer(() => db.close())
    const store = redisStore({ url: redis.url })
    teardown.defer(() => store.close())
    const locks = createLocks({ store, prefix: `${config.prefix}:` })
    teardown.defer(() => locks.close())
    return {
      a: a.url,
      b: b.url,
      logs: () => [...a.logs, ...b.logs],
      queries: financeQueries(db),
      db,
      locks,
      app: undefined,
      redis,
      close: () => teardown.run(),
    }
  })
}

/** A database of one suite's own, dropped afterwards; `env` points the app at it. */
export interface FreshDatabase {
  readonly env: Record<string, string>
  drop(): Promise<void>
}

/** A new schema in PostgreSQL's `test` database (the app creates it: `DATABASE_SCHEMA`). */
export async function freshPostgres(url: string): Promise<FreshDatabase> {
  const schema = `refapp_${randomBytes(4).toString('hex')}`
  return {
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
    async drop() {
      const pool = new pg.Pool({ connectionString: url })
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
      await pool.end()
    },
  }
}

/** A new database on the MariaDB server. */
export async function freshMariaDb(url: string): Promise<FreshDatabase> {
  const database = `refapp_${randomBytes(4).toString('hex')}`
  const pool = mysql.createPool({ uri: url })
  await pool.query(`CREATE DATABASE ${database}`)
  const own = new URL(url)
  own.pathname = `/${database}`
  return {
    env: { DATABASE_URL: own.toString() },
    async drop() {
      await pool.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {})
      await pool.end()
    },
  }
}

/** Waits until `check` returns true (polling), or throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
