/**
 * `cachekit` as a subprocess against a private Redis: every command, `--json` parsed, exit codes,
 * the environment as `cacheFromEnv()` reads it, and no password in any output.
 */
import { createCache } from 'cachekit'
import { createLoginGuard } from 'cachekit/ratelimit'
import { type RedisStore, redisStore } from 'cachekit/redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runCli } from '../support/cli.js'
import { freePort } from '../support/processes.js'
import { type RedisServer, redisAvailable, startRedis } from '../support/redis.js'

// Each test runs the CLI several times as a subprocess: seconds each on a busy machine.
vi.setConfig({ testTimeout: 120_000 })

const PASSWORD = 'pa55-Secret_for-cli'
const PREFIX = `cli${process.pid}`

describe.skipIf(!redisAvailable())('cachekit CLI on Redis', () => {
  let server: RedisServer
  let store: RedisStore
  let url: string
  const cli = (args: string[], env: Record<string, string> = {}, input?: string) =>
    runCli(['--url', url, '--prefix', PREFIX, ...args], { env, ...(input === undefined ? {} : { input }) })
  /** Runs `--json <args>`, expects exit code 0 and answers the parsed output. */
  const cliJson = async <T = unknown>(args: string[]): Promise<T> => {
    const result = await cli(['--json', ...args])
    expect(result.code, result.stderr).toBe(0)
    return result.json<T>()
  }

  beforeAll(async () => {
    server = await startRedis({ password: PASSWORD })
    url = server.url
    store = redisStore({ url, timeout: 5000 })
    const cache = createCache({ store, prefix: PREFIX })
    await cache.set(
      'user:1',
      { name: 'Ann', joined: new Date('2024-05-01T00:00:00Z'), ids: new Set([1, 2]) },
      { ttl: '1h' },
    )
    await cache.set('user:2', 'Bob')
    await cache.set('tmp:1', 1)
    await cache.set('tmp:2', 2)
    await cache.set('tmp:3', 3)
    server.cli('SET', 'raw-outside-prefix', 'x')
  })
  afterAll(async () => {
    await store?.close()
    await server?.stop()
  })

  it('ping: connects and times round trips', async () => {
    const result = await cli(['--json', 'ping', '--count', '2'])
    expect(result.code).toBe(0)
    const json = result.json<{ ok: boolean; store: string; url: string; count: number }>()
    expect(json).toMatchObject({ ok: true, store: 'redis', count: 2 })
    expect(json.url).toContain('***')
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
  })

  it('stats: server figures', async () => {
    const json = await cliJson<{
      store: string
      dbSize: number
      maxmemoryPolicy: string
      redisVersion: string
    }>(['stats'])
    expect(json.store).toBe('redis')
    expect(json.dbSize).toBeGreaterThanOrEqual(6)
    expect(json.maxmemoryPolicy).toBeTruthy()
    const human = await cli(['stats'])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('eviction policy')
  })

  it('keys: under the prefix only, by pattern, --json and lines', async () => {
    const json = await cliJson<{ keys: string[]; count: number; truncated: boolean }>(['keys', 'user:*'])
    expect(json.keys.sort()).toEqual(['user:1', 'user:2'])
    expect(json.count).toBe(2)
    const all = (await cli(['--json', 'keys'])).json<{ keys: string[] }>()
    expect(all.keys).not.toContain('raw-outside-prefix')
    expect(all.keys.length).toBe(5)
    const limited = (await cli(['--json', 'keys', '*', '--limit', '2'])).json<{
      count: number
      truncated: boolean
    }>()
    expect(limited).toMatchObject({ count: 2, truncated: true })
    const lines = await cli(['--no-progress', 'keys', 'tmp:*'])
    expect(lines.stdout.trim().split('\n').sort()).toEqual(['tmp:1', 'tmp:2', 'tmp:3'])
    expect(lines.stderr).toContain('3 keys')
  })

  it('get: decoded through the codec; exit 1 when missing', async () => {
    const json = await cliJson<{
      found: boolean
      type: string
      value: { name: string; joined: string; ids: number[] }
      ttlMs: number
    }>(['get', 'user:1'])
    expect(json).toMatchObject({
      found: true,
      type: 'object',
      value: { name: 'Ann', joined: '2024-05-01T00:00:00.000Z', ids: [1, 2] },
    })
    expect(json.ttlMs).toBeGreaterThan(3_000_000)
    const human = await cli(['get', 'user:1'])
    expect(human.stdout).toContain('2024-05-01T00:00:00.000Z')
    expect(human.stdout).toContain('Set(2)')
    const missing = await cli(['--json', 'get', 'nope'])
    expect(missing.code).toBe(1)
    expect(missing.json()).toEqual({ key: 'nope', found: false })
  })

  it('get: a value cachekit did not write is shown as text, raw', async () => {
    server.cli('SET', `${PREFIX}:foreign`, 'written by redis-cli')
    expect(await cliJson(['get', 'foreign'])).toMatchObject({
      found: true,
      raw: true,
      value: 'written by redis-cli',
    })
    server.cli('DEL', `${PREFIX}:foreign`)
  })

  it('ttl: ms left, null for never, exit 1 when missing', async () => {
    const withTtl = await cli(['--json', 'ttl', 'user:1'])
    expect(withTtl.code).toBe(0)
    expect(withTtl.json<{ ttlMs: number }>().ttlMs).toBeGreaterThan(3_000_000)
    const never = await cli(['--json', 'ttl', 'user:2'])
    expect(never.json()).toEqual({ key: 'user:2', found: true, ttlMs: null })
    expect((await cli(['--json', 'ttl', 'nope'])).code).toBe(1)
  })

  it('del: how many were deleted', async () => {
    await store.set(`${PREFIX}:gone:1`, Buffer.from('x'), { ttl: null })
    expect(await cliJson(['del', 'gone:1', 'gone:2'])).toEqual({ keys: ['gone:1', 'gone:2'], deleted: 1 })
  })

  it('clear: dry run counts, a "no" deletes nothing, a "yes" deletes exactly the matches', async () => {
    const dry = await cli(['--json', 'clear', '--pattern', 'tmp:*', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.json()).toMatchObject({ matched: 3, deleted: 0, dryRun: true })
    const declined = await cli(['clear', '--pattern', 'tmp:*'], {}, 'n\n')
    expect(declined.code).toBe(1)
    expect(declined.stderr).toContain('Delete 3 keys matching tmp:*?')
    expect(server.cli('EXISTS', `${PREFIX}:tmp:1`)).toBe('1')
    const confirmed = await cli(['clear', '--pattern', 'tmp:*'], {}, 'y\n')
    expect(confirmed.code).toBe(0)
    expect(confirmed.stdout).toContain('deleted 3 keys')
    const left = (await cli(['--json', 'keys'])).json<{ keys: string[] }>().keys.sort()
    expect(left).toEqual(['user:1', 'user:2'])
    expect(server.cli('EXISTS', 'raw-outside-prefix')).toBe('1')
  })

  it('usage errors exit 2: no --pattern, --json without --yes, unknown command, bad option values', async () => {
    expect((await cli(['clear'])).code).toBe(2)
    const noYes = await cli(['--json', 'clear', '--pattern', '*'])
    expect(noYes.code).toBe(2)
    expect(noYes.json<{ error: { code: string } }>().error.code).toBe('E_USAGE')
    const unknown = await cli(['--json', 'frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.json<{ error: { code: string } }>().error.code).toBe('E_USAGE')
    expect((await cli(['--timeout', 'soon', 'ping'])).code).toBe(2)
    expect((await cli(['ping', '--count', 'many'])).code).toBe(2)
    expect((await cli(['migrate'])).code).toBe(2)
    const none = await runCli(['ping'])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('--url')
    expect((await runCli(['--help'])).code).toBe(0)
  })

  it('connects from the environment as cacheFromEnv() does: REDIS_URL, CACHE_URL, CACHE_PREFIX', async () => {
    const env = { REDIS_URL: url, CACHE_PREFIX: PREFIX }
    const viaRedisUrl = await runCli(['--json', 'keys', 'user:*'], { env })
    expect(viaRedisUrl.code).toBe(0)
    expect(viaRedisUrl.json<{ count: number }>().count).toBe(2)
    const viaCacheUrl = await runCli(['--json', 'get', 'user:2'], {
      env: { CACHE_URL: url, CACHE_PREFIX: PREFIX },
    })
    expect(viaCacheUrl.json<{ value: string }>().value).toBe('Bob')
  })

  it('a wrong password or an unreachable server: exit 1 within the deadline, no password printed', async () => {
    const wrong = url.replace(PASSWORD, 'not-the-Password-123')
    const denied = await runCli(['--json', '--url', wrong, '--timeout', '2s', 'ping'])
    expect(denied.code).toBe(1)
    expect(denied.stdout + denied.stderr).not.toContain('not-the-Password-123')
    const port = await freePort()
    const started = Date.now()
    const down = await runCli([
      '--json',
      '--url',
      `redis://:${PASSWORD}@127.0.0.1:${port}`,
      '--timeout',
      '1s',
      'ping',
    ])
    expect(down.code).toBe(1)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(down.json<{ error: { code: string } }>().error.code).toBe('E_STORE_UNAVAILABLE')
    expect(down.stdout + down.stderr).not.toContain(PASSWORD)
  })

  it('check: passes with warnings on a default server, fails (3) with --strict or when unreachable', async () => {
    const json = await cliJson<{
      ok: boolean
      warnings: number
      findings: { name: string; status: string }[]
    }>(['check'])
    expect(json.ok).toBe(true)
    const status = Object.fromEntries(json.findings.map((f) => [f.name, f.status]))
    expect(status).toMatchObject({ connect: 'ok', version: 'ok', 'read/write': 'ok', auth: 'ok', tls: 'ok' })
    expect(status['eviction']).toBe('warn') // the harness runs noeviction
    expect((await cli(['check', '--strict'])).code).toBe(3)
    const human = await cli(['check'])
    expect(human.stdout).toContain('noeviction')
    expect(human.stdout).toContain('allkeys-lru')
    const port = await freePort()
    const down = await runCli(['--json', '--url', `redis://127.0.0.1:${port}`, '--timeout', '1s', 'check'])
    expect(down.code).toBe(3)
    expect(down.json<{ findings: { name: string; status: string }[] }>().findings[0]).toMatchObject({
      name: 'connect',
      status: 'error',
    })
  })

  it('unlock: ends a login-guard lockout of an IP', async () => {
    const guard = createLoginGuard({ store, failureLimit: 2, prefix: `${PREFIX}:guard` })
    const attempt = { username: 'ann', ip: '192.0.2.7' }
    for (let i = 0; i < 2; i++) {
      await guard.check(attempt)
      await guard.fail(attempt)
    }
    expect((await guard.check(attempt)).locked).toBe(true)
    expect(await cliJson(['unlock', '--ip', '192.0.2.7', '--guard-prefix', `${PREFIX}:guard`])).toMatchObject(
      { ok: true, ip: '192.0.2.7', lifted: 1 },
    )
    expect((await guard.check(attempt)).locked).toBe(false)
    expect((await guard.lockoutLog(5)).some((line) => JSON.stringify(line).includes('cli'))).toBe(true)
    expect((await cli(['unlock'])).code).toBe(2)
    await guard.close()
  })

  it('bench: throughput and latency percentiles, bounded in time, keys removed after', async () => {
    const json = await cliJson<{
      ops: number
      opsPerSecond: number
      get: { p50: number; p99: number }
      set: { ops: number }
    }>(['bench', '--duration', '1', '--concurrency', '4', '--size', '64'])
    expect(json.ops).toBeGreaterThan(0)
    expect(json.get.p99).toBeGreaterThanOrEqual(json.get.p50)
    expect(server.cli('--scan', '--pattern', `${PREFIX}:cachekit-bench:*`)).toBe('')
  })
})

describe.skipIf(!redisAvailable())('cachekit CLI on Redis over TLS', () => {
  let server: RedisServer
  afterAll(async () => {
    await server?.stop()
  })

  it('check reports TLS in use (rediss://), trusting the CA given by NODE_EXTRA_CA_CERTS', async () => {
    server = await startRedis({ tls: true, password: PASSWORD })
    const env = { NODE_EXTRA_CA_CERTS: server.tls?.cert ?? '' }
    const result = await runCli(['--json', '--url', server.url, 'check'], { env })
    expect(result.code, result.stderr).toBe(0)
    const findings = result.json<{ findings: { name: string; status: string; detail: string }[] }>().findings
    expect(findings.find((f) => f.name === 'tls')).toMatchObject({
      status: 'ok',
      detail: 'TLS in use (rediss://)',
    })
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
  })
})
