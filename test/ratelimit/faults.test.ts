import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../src/errors.js'
import { createLoginGuard, createRateLimiter, scriptRunnerFromClient } from '../../src/ratelimit/index.js'
import { hasRedis } from '../support/ratelimit.js'
import { useRedisServer } from '../support/redis.js'

describe.skipIf(!hasRedis)('failure policies when Redis dies', () => {
  const server = useRedisServer()
  let client: ReturnType<typeof createClient>
  beforeAll(async () => {
    client = createClient({ url: server.url, disableOfflineQueue: true, socket: { reconnectStrategy: 50 } })
    client.on('error', () => {})
    await client.connect()
  })
  afterAll(async () => {
    client.destroy()
  })

  const make = (onFailure: 'open' | 'closed' | 'local') =>
    createRateLimiter({
      store: scriptRunnerFromClient(client),
      rules: { s: '2/hour' },
      onFailure,
      timeout: 300,
      prefix: `faults-${onFailure}-${Date.now()}`,
    })

  it('killed mid-run: open allows, closed refuses, local counts in process; all within the deadline', async () => {
    const open = make('open')
    const closed = make('closed')
    const local = make('local')
    for (const l of [open, closed, local]) expect((await l.consume('s', 'k')).degraded).toBeUndefined()
    await server.kill()
    const started = Date.now()
    const o = await open.consume('s', 'k')
    const c = await closed.consume('s', 'k')
    const l = [await local.consume('s', 'k'), await local.consume('s', 'k'), await local.consume('s', 'k')]
    expect(Date.now() - started).toBeLessThan(1500)
    expect(o).toMatchObject({ allowed: true, degraded: 'open' })
    expect(c).toMatchObject({ allowed: false, degraded: 'closed' })
    expect(c.retryAfterMs).toBeGreaterThan(0)
    expect(l.map((r) => [r.allowed, r.degraded])).toEqual([
      [true, 'local'],
      [true, 'local'],
      [false, 'local'],
    ])
    await server.restart()
  })

  it('paused (no replies at all): the deadline applies, never a hang', async () => {
    const closed = make('closed')
    const guard = createLoginGuard({ store: scriptRunnerFromClient(client), timeout: 300 })
    // Let the client reconnect after the restart above.
    for (let i = 0; i < 50 && !client.isReady; i++) await new Promise((r) => setTimeout(r, 50))
    server.pause()
    try {
      const started = Date.now()
      expect(await closed.consume('s', 'p')).toMatchObject({ allowed: false, degraded: 'closed' })
      await expect(guard.check({ ip: '1.2.3.4' })).rejects.toBeInstanceOf(StoreUnavailableError)
      expect(Date.now() - started).toBeLessThan(1500)
    } finally {
      server.resume()
    }
  })
})
