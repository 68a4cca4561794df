/** Starts the app in-process on a small data set in a temporary folder, and a cookie-keeping client. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../config.js'
import { type RunningApp, startApp } from '../server.js'

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

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Response>
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  /** GET and parse JSON, failing on a non-2xx status. */
  json<T = unknown>(path: string): Promise<T>
  cookie: string
}

/** A tiny browser: keeps the session cookie between requests. */
export function client(base: string): Client {
  const c: Client = {
    cookie: '',
    async get(path, headers = {}) {
      return keep(await fetch(base + path, { headers: { cookie: c.cookie, ...headers }, redirect: 'manual' }))
    },
    async post(path, body = {}, headers = {}) {
      return keep(
        await fetch(base + path, {
          method: 'POST',
          headers: { cookie: c.cookie, 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          redirect: 'manual',
        }),
      )
    },
    async json<T>(path: string): Promise<T> {
      const response = await c.get(path)
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
      return (await response.json()) as T
    },
  }
  const keep = (response: Response) => {
    const set = response.headers.getSetCookie().find((line) => line.startsWith('sid='))
    if (set) c.cookie = set.split(';')[0] ?? ''
    return response
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

/** Waits until `check` returns true (polling), or throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
