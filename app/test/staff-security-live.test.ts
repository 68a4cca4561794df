/**
 * Seed 4 (staff bot) as the app's security and live features: login by a one-time PIN valid 5
 * minutes and usable once, per-role limits, a lock around transfers whose fencing token the SQL
 * update checks, live balances over Server-Sent Events, merchants near a point. In-process, and
 * on two app processes sharing Redis and PostgreSQL: a PIN issued by one works once on the other,
 * limits and the transfer lock are shared, a transfer on one reaches a stream open on the other.
 */
import { describe, expect, it } from 'vitest'
import { FencedOutError } from '../services/finance.js'
import { client, login, openEvents } from './http.js'
import { targets, useDeployment, waitFor } from './support.js'

for (const target of await targets()) {
  describe(`staff bot, ${target.name}: PIN login, per-role limits, fenced transfers, live balances, merchants nearby`, () => {
    const d = useDeployment(target, {
      THROTTLE_LOGIN: '1000/min',
      THROTTLE_PIN: '1000/min',
      THROTTLE_TRANSFER_MEMBER: '3/min',
    })

    const pinFor = (username: string) => {
      const line = d
        .logs()
        .reverse()
        .find((l) => l.startsWith(`PIN for ${username}:`))
      return line?.match(/: (\d{6}) /)?.[1]
    }

    it('logs in with a one-time PIN that works once, on any process', async () => {
      const c = client(d.a)
      expect((await c.post('/api/login/pin/request', { username: 'user02' })).status).toBe(200)
      const pin = pinFor('user02')
      expect(pin).toMatch(/^\d{6}$/)
      const onB = c.via(d.b)
      expect(
        (
          await onB.post('/api/login/pin', {
            username: 'user02',
            pin: '000000' === pin ? '111111' : '000000',
          })
        ).status,
      ).toBe(401)
      expect((await onB.post('/api/login/pin', { username: 'user02', pin })).status).toBe(200)
      expect(await c.json('/api/me')).toMatchObject({ username: 'user02', role: 'member' })
      // Used once: a second login with it fails, on either process.
      expect((await client(d.a).post('/api/login/pin', { username: 'user02', pin })).status).toBe(401)
      expect((await client(d.b).post('/api/login/pin', { username: 'user02', pin })).status).toBe(401)
    })

    it('answers a PIN request the same way for an unknown user, and logs no PIN for it', async () => {
      const response = await client(d.b).post('/api/login/pin/request', { username: 'nobody' })
      expect(response.status).toBe(200)
      expect(pinFor('nobody')).toBeUndefined()
    })

    it('refuses a resend within the cooldown, whichever process is asked', async () => {
      expect((await client(d.a).post('/api/login/pin/request', { username: 'user05' })).status).toBe(200)
      expect((await client(d.b).post('/api/login/pin/request', { username: 'user05' })).status).toBe(429)
    })

    it('runs concurrent transfers on both processes one at a time under the lock, each fenced in SQL', async () => {
      const demo = await login(d.a)
      const [a, b] = await d.queries.accounts(1)
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          demo.via(i % 2 ? d.b : d.a).post('/api/transfers', { from: a!.id, to: b!.id, amount: 100 }),
        ),
      )
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(200))
      const [a2, b2] = await d.queries.accounts(1)
      expect(a2!.balance).toBe(a!.balance - 1200)
      expect(b2!.balance).toBe(b!.balance + 1200)
      const fence = await d.db.get<{ fence: number }>('SELECT fence FROM accounts WHERE id = ?', [a!.id])
      expect(Number(fence?.fence)).toBeGreaterThan(0)
      // A stale holder (an older token) is refused by the row, and nothing moves.
      await expect(d.queries.transfer(1, a!.id, b!.id, 100, 1)).rejects.toBeInstanceOf(FencedOutError)
      expect((await d.queries.accounts(1))[0]!.balance).toBe(a2!.balance)
    })

    it('makes the next transfer wait out a holder that stalled, then refuses the stalled write', async () => {
      const demo = await login(d.b)
      const [a, b] = await d.queries.accounts(1)
      // Another holder of the app's lock (on Redis: a third process) that stalls past its TTL.
      const stalled = await d.locks.lock('transfer:user:1', { ttl: 1000 })
      const started = Date.now()
      expect((await demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 1 })).status).toBe(200)
      expect(Date.now() - started).toBeGreaterThanOrEqual(900) // it got the lock once the TTL ran out
      await expect(d.queries.transfer(1, a!.id, b!.id, 999, stalled.token)).rejects.toBeInstanceOf(
        FencedOutError,
      )
      expect(await stalled.release()).toBe(false)
    })

    it('limits transfers per role across processes: members 3/min here, staff more', async () => {
      const member = await login(d.a, 'user06')
      const [a, b] = await d.queries.accounts(6)
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) {
        const on = member.via(i % 2 ? d.b : d.a)
        statuses.push((await on.post('/api/transfers', { from: a!.id, to: b!.id, amount: 1 })).status)
      }
      expect(statuses).toEqual([200, 200, 200, 429])
    })

    it('pushes new balances to a page open on one process on a transfer made on the other', async () => {
      const demo = await login(d.a)
      const live = await openEvents(demo.via(d.b))
      expect(live.response.headers.get('content-type')).toContain('text/event-stream')
      const [a, b] = await d.queries.accounts(1)
      // The subscription is live once the stream opened; retry the write until an event arrives.
      await waitFor(async () => {
        if (live.events.length > 0) return true
        await demo.post('/api/transfers', { from: a!.id, to: b!.id, amount: 5 })
        await new Promise((resolve) => setTimeout(resolve, 100))
        return live.events.length > 0
      })
      const event = live.events.at(-1)!
      expect(event.reason).toBe('transfer')
      const now = await d.queries.accounts(1)
      await waitFor(
        () => live.events.at(-1)!.accounts.find((x) => x.id === a!.id)?.balance === now[0]!.balance,
      )
      live.close()
    })

    it('finds merchants near a point through the geo index, nearest first', async () => {
      const demo = await login(d.b)
      const result = await demo.json<{ merchants: { id: number; distanceKm: number }[] }>(
        '/api/merchants/near?lon=13.405&lat=52.52&km=4',
      )
      const distances = result.merchants.map((m) => m.distanceKm)
      expect(distances).toEqual([...distances].sort((x, y) => x - y))
      expect(distances.every((d) => d <= 4)).toBe(true)
      // Against the database, by haversine: the same merchants (up to 20), up to rounding at the edge.
      const all = await d.queries.merchants()
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
}
