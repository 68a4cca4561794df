/**
 * Seed 4 (staff bot) as the app's security and live features: login by a one-time PIN valid 5
 * minutes and usable once, per-role limits, a lock around transfers whose fencing token the SQL
 * update checks, live balances over Server-Sent Events, merchants near a point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FencedOutError } from '../services/finance.js'
import { type Client, client, login, startTestApp, type TestApp, waitFor } from './support.js'

/** Opens the balance stream and collects its `data:` lines. */
async function openEvents(base: string, c: Client) {
  const controller = new AbortController()
  const response = await fetch(`${base}/events/balances`, {
    headers: { cookie: c.cookie },
    signal: controller.signal,
  })
  const events: { accounts: { id: number; balance: number }[]; reason: string }[] = []
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
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

describe('staff bot: PIN login, per-role limits, fenced transfers, live balances, merchants nearby', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp({
      THROTTLE_LOGIN: '1000/min',
      THROTTLE_PIN: '1000/min',
      THROTTLE_TRANSFER_MEMBER: '3/min',
    })
  })
  afterAll(async () => {
    await app?.close()
  })

  const pinFor = (username: string) => {
    const line = [...app.logs].reverse().find((l) => l.startsWith(`PIN for ${username}:`))
    return line?.match(/: (\d{6}) /)?.[1]
  }

  it('logs in with a one-time PIN that works once', async () => {
    const c = client(app.url)
    expect((await c.post('/api/login/pin/request', { username: 'user02' })).status).toBe(200)
    const pin = pinFor('user02')
    expect(pin).toMatch(/^\d{6}$/)
    expect(
      (await c.post('/api/login/pin', { username: 'user02', pin: '000000' === pin ? '111111' : '000000' }))
        .status,
    ).toBe(401)
    expect((await c.post('/api/login/pin', { username: 'user02', pin })).status).toBe(200)
    expect(await c.json('/api/me')).toMatchObject({ username: 'user02', role: 'member' })
    // Used once: a second login with it fails.
    expect((await client(app.url).post('/api/login/pin', { username: 'user02', pin })).status).toBe(401)
  })

  it('answers a PIN request the same way for an unknown user, and logs no PIN for it', async () => {
    const response = await client(app.url).post('/api/login/pin/request', { username: 'nobody' })
    expect(response.status).toBe(200)
    expect(pinFor('nobody')).toBeUndefined()
  })

  it('refuses a resend within the cooldown', async () => {
    const c = client(app.url)
    expect((await c.post('/api/login/pin/request', { username: 'user05' })).status).toBe(200)
    expect((await c.post('/api/login/pin/request', { username: 'user05' })).status).toBe(429)
  })

  it('runs concurrent transfers one at a time under the lock, each fenced in SQL', async () => {
    const demo = await login(app.url)
    const [a, b] = await app.services.queries.accounts(1)
    const results = await Promise.all(
      Array.from({ length: 12 }, () => demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 100 })),
    )
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200))
    const [a2, b2] = await app.services.queries.accounts(1)
    expect(a2!.balance).toBe(a!.balance - 1200)
    expect(b2!.balance).toBe(b!.balance + 1200)
    const fence = await app.services.db.get<{ fence: number }>('SELECT fence FROM accounts WHERE id = ?', [
      a!.id,
    ])
    expect(Number(fence?.fence)).toBeGreaterThan(0)
    // A stale holder (an older token) is refused by the row, and nothing moves.
    await expect(app.services.queries.transfer(1, a!.id, b!.id, 100, 1)).rejects.toBeInstanceOf(
      FencedOutError,
    )
    expect((await app.services.queries.accounts(1))[0]!.balance).toBe(a2!.balance)
  })

  it('refuses the write of a holder that stalled past its lock, after the next holder wrote', async () => {
    const demo = await login(app.url)
    const [a, b] = await app.services.queries.accounts(1)
    const stalled = await app.services.locks.lock('transfer:user:1', { ttl: 150 })
    await waitFor(() => stalled.signal.aborted, 5000) // its TTL ran out
    expect((await demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 1 })).status).toBe(200)
    await expect(app.services.finance.transfer(1, a!.id, b!.id, 999, stalled.token)).rejects.toBeInstanceOf(
      FencedOutError,
    )
    expect(await stalled.release()).toBe(false)
  })

  it('limits transfers per role: members 3/min here, staff more', async () => {
    const member = await login(app.url, 'user06')
    const [a, b] = await app.services.queries.accounts(6)
    const statuses: number[] = []
    for (let i = 0; i < 4; i++)
      statuses.push((await member.post('/api/transfers', { from: a!.id, to: b!.id, amount: 1 })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  it('pushes new balances to an open page over SSE on a transfer', async () => {
    const demo = await login(app.url)
    const live = await openEvents(app.url, demo)
    expect(live.response.headers.get('content-type')).toContain('text/event-stream')
    const [a, b] = await app.services.queries.accounts(1)
    // The subscription is live once the stream opened; retry the write until an event arrives.
    await waitFor(async () => {
      if (live.events.length > 0) return true
      await demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 5 })
      await new Promise((resolve) => setTimeout(resolve, 100))
      return live.events.length > 0
    })
    const event = live.events.at(-1)!
    expect(event.reason).toBe('transfer')
    const now = await app.services.queries.accounts(1)
    await waitFor(() => live.events.at(-1)!.accounts.find((x) => x.id === a!.id)?.balance === now[0]!.balance)
    live.close()
  })

  it('finds merchants near a point through the geo index, nearest first', async () => {
    const demo = await login(app.url)
    const result = await demo.json<{ merchants: { id: number; distanceKm: number }[] }>(
      '/api/merchants/near?lon=13.405&lat=52.52&km=4',
    )
    const distances = result.merchants.map((m) => m.distanceKm)
    expect(distances).toEqual([...distances].sort((x, y) => x - y))
    expect(distances.every((d) => d <= 4)).toBe(true)
    // Against the database, by haversine: the same merchants (up to 20), up to rounding at the edge.
    const all = await app.services.queries.merchants()
    const R = 6372.797560856
    const rad = (d: number) => (d * Math.PI) / 180
    const within = all.filter((m) => {
      const h =
        Math.sin(rad(m.lat - 52.52) / 2) ** 2 +
        Math.cos(rad(52.52)) * Math.cos(rad(m.lat)) * Math.sin(rad(m.lon - 13.405) / 2) ** 2
      return 2 * R * Math.asin(Math.sqrt(h)) <= 3.99
    })
    expect(result.merchants.length).toBeGreaterThanOrEqual(Math.min(20, within.length))
  })
})
