/**
 * What the end-to-end suites share: the app in-process on a small data set, or two app processes
 * on one private Redis and a fresh PostgreSQL schema or MariaDB database (a {@link Deployment});
 * a cookie-keeping client; the admin page and the balance stream driven over HTTP.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { type IncomingHttpHeaders, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocks, type Locks } from 'cachekit/lock'
import { redisStore } from 'cachekit/redis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type RedisServer, redisAvailable, startRedis } from '../../test/harness/redis.js'
import { mysqlUrl, postgresUrl } from '../../test/sql/servers.js'
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

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Response>
  /** POST `body` as JSON, or as a form when it is `URLSearchParams`. */
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  /** GET and parse JSON, failing on a non-2xx status. */
  json<T = unknown>(path: string): Promise<T>
  /** The same browser (its cookies) on another app process, as behind a load balancer. */
  via(base: string): Client
  /** The `Cookie` header: every cookie the app set, by name. */
  cookie: string
}

/** A tiny browser: keeps the cookies (the session's and the admin page's) between requests. */
export function client(base: string, jar = new Map<string, string>()): Client {
  const keep = async (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
    }
    // Like a browser, take the whole response before the next request: express-session saves a
    // session while the last byte is held back, so the headers alone do not mean it is stored.
    if (!response.headers.get('content-type')?.startsWith('text/event-stream'))
      await response.clone().arrayBuffer()
    return response
  }
  const c: Client = {
    get cookie() {
      return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    },
    set cookie(header: string) {
      jar.clear()
      for (const pair of header.split(';')) {
        const eq = pair.indexOf('=')
        if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
      }
    },
    async get(path, headers = {}) {
      return keep(await fetch(base + path, { headers: { cookie: c.cookie, ...headers }, redirect: 'manual' }))
    },
    async post(path, body = {}, headers = {}) {
      const form = body instanceof URLSearchParams
      return keep(
        await fetch(base + path, {
          method: 'POST',
          headers: {
            cookie: c.cookie,
            'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
            ...headers,
          },
          body: form ? body.toString() : JSON.stringify(body),
          redirect: 'manual',
        }),
      )
    },
    async json<T>(path: string): Promise<T> {
      const response = await c.get(path)
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
      return (await response.json()) as T
    },
    via: (other) => client(other, jar),
  }
  return c
}

/** A client logged in as `username` (every demo user's password is `demo`). */
export async function login(base: string, username = 'demo'): Promise<Client> {
  const c = client(base)
  const response = await c.post('/api/login', { username, password: 'demo' })
  if (response.status !== 200)
    throw new Error(`login as ${username}: ${response.status} ${await response.text()}`)
  return c
}

/** Records an expense of `amount` cents on `accountId` as `c` (category 25: a leaf of the demo user's tree). */
export function addExpense(c: Client, accountId: number, amount: number): Promise<Response> {
  return c.post('/api/transactions', { accountId, categoryId: 25, type: 'expense', amount })
}

/** Waits until `check` returns true (polling), or throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * A GET carrying the Host header a load balancer passes to every process (fetch always sends the
 * URL's own): the response cache keys pages by host, as Django's `cache_page` does.
 */
export function getViaBalancer(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    request({ hostname, port, path, headers: { host: 'finance.example', ...headers } }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      response.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

/** `/ops/stats` of the app at `base` (loopback only): its database queries and cache hits so far. */
export async function opsStats(base: string): Promise<{ dbQueries: number; cache: { hits: number } }> {
  return client(base).json('/ops/stats')
}

export interface BalanceEvent {
  readonly accounts: { id: number; balance: number }[]
  readonly reason: string
}

/** Opens `/events/balances` as `c` and collects its events until `close()`. */
export async function openEvents(c: Client) {
  const controller = new AbortController()
  const response = await c.get('/events/balances', { accept: 'text/event-stream' })
  const events: BalanceEvent[] = []
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}))
  const decoder = new TextDecoder()
  let buffer = ''
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n')
          if (data) events.push(JSON.parse(data))
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {}
  })()
  return { response, events, close: () => controller.abort() }
}

/** A key of a cache as the admin page shows it. */
export interface AdminKey {
  /** The key in the store, with prefix and version. */
  readonly fullKey: string
  /** As the page writes it: `60 min`, `10 min`, `never expires`. */
  readonly ttl: string
  readonly value: string
}

const unescapeHtml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')

/** The admin page (`/admin/cache`) used by a signed-in staff member `staff`, as in a browser. */
export function adminPage(staff: Client) {
  const page = async (path: string) => {
    const response = await staff.get(`/admin/cache${path}`)
    const html = await response.text()
    if (!response.ok) throw new Error(`GET /admin/cache${path}: ${response.status} ${html}`)
    return html
  }
  /** POSTs the first form of `html` that carries `fields`, with its CSRF token. */
  const submit = async (html: string, action: string, fields: Record<string, string>) => {
    const token = html.match(/name="_csrf" value="([^"]+)"/)?.[1]
    if (!token) throw new Error(`no CSRF token on the admin page before ${action}`)
    const response = await staff.post(
      `/admin/cache${action}`,
      new URLSearchParams({ ...fields, _csrf: token }),
    )
    const answer = await response.text()
    if (!response.ok) throw new Error(`POST /admin/cache${action}: ${response.status} ${answer}`)
    return answer
  }
  return {
    /** The key in the `cache` cache (`main` or `sessions`), or undefined when it is not there. */
    async key(key: string, cache = 'main'): Promise<AdminKey | undefined> {
      const html = await page(`/key?${new URLSearchParams({ cache, key })}`)
      const cell = (name: string) => html.match(new RegExp(`<th>${name}</th><td>(.*?)</td>`))?.[1]
      const fullKey = cell('In the store as')?.replace(/<\/?code>/g, '')
      if (fullKey === undefined) return undefined
      const value = html.match(/<pre id="value">([\s\S]*?)<\/pre>/)?.[1] ?? ''
      return { fullKey: unescapeHtml(fullKey), ttl: cell('TTL') ?? '', value: unescapeHtml(value) }
    },
    /** Clears the keys matching `pattern`: the count page, then its confirmed form. How many went. */
    async clear(pattern: string, cache = 'main'): Promise<number> {
      const confirm = await page(`/clear?${new URLSearchParams({ cache, pattern })}`)
      const done = await submit(confirm, '/clear', { cache, pattern, confirm: 'yes' })
      return Number(done.match(/data-deleted="(\d+)"/)?.[1] ?? Number.NaN)
    },
    /** The login guard's lockout log, newest first. */
    async lockoutLog(): Promise<{ kind: string; username: string; by: string }[]> {
      const html = await page('/protection')
      return [
        ...html.matchAll(
          /<tr><td>[^<]*<\/td><td>([^<]*)<\/td><td class="key">([^<]*)<\/td><td class="key">[^<]*<\/td><td class="opt">([^<]*)<\/td><\/tr>/g,
        ),
      ].map(([, kind = '', username = '', why = '']) => ({
        kind,
        username: unescapeHtml(username),
        by: why.match(/\(([^)]*)\)$/)?.[1] ?? '',
      }))
    },
    /** Lifts the lockout of `username` (from every address). */
    async unlock(username: string): Promise<void> {
      await submit(await page('/protection'), '/unlock', { guard: 'login', username, mode: 'unlock' })
    },
  }
}
