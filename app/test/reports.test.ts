/**
 * Seed 2 (course reports) as the app's report generation: a prefix and TTL per report type,
 * 10 generations an hour per user and 100 per address (a cached report is not a generation),
 * reports invalidated by the writes they summarise, clearing by pattern from the admin page.
 * In-process, and on two app processes sharing Redis and PostgreSQL, then Redis and MariaDB.
 */
import { describe, expect, it } from 'vitest'
import { addExpense, adminPage, login } from './http.js'
import { targets, useDeployment } from './support.js'

for (const target of await targets({ mariadb: true })) {
  describe(`reports, ${target.name}: per-type prefixes and TTLs, 10 generations/hour per user`, () => {
    const d = useDeployment(target, { THROTTLE_LOGIN: '1000/min' })

    it('caches each report type under its own prefix and TTL, for every process', async () => {
      const demo = await login(d.a)
      const onB = demo.via(d.b)
      const first = await demo.get('/reports/monthly?months=6')
      expect(first.headers.get('x-cache-misses')).toBe('1')
      const monthly = (await first.json()) as { rows: unknown[]; generatedAt: string }
      expect(monthly.rows.length).toBeGreaterThan(0)
      const again = await onB.get('/reports/monthly?months=6')
      expect(again.headers.get('x-cache-hits')).toBe('1') // served from the cache
      expect(again.headers.get('x-cache-misses')).toBe('0')
      expect(await again.json()).toEqual(monthly)
      await onB.json('/reports/categories?months=6')
      const admin = adminPage(demo)
      const key = await admin.key('report_monthly:1:6')
      expect(key?.fullKey).toBe('hlvm:report_monthly:1:6')
      expect(key?.ttl).toMatch(/^(59|60) min$/) // 1 hour
      expect((await admin.key('report_categories:1:6'))?.ttl).toMatch(/^(9|10) min$/) // 10 minutes
      const csv = await onB.get('/reports/monthly?months=6&format=csv')
      expect(csv.headers.get('content-type')).toContain('text/csv')
      expect((await csv.text()).split('\n')[0]).toBe('period,label,total_cents,count')
    })

    it('allows 10 generations an hour per user across processes; cached reports stay available', async () => {
      const user = await login(d.a, 'user02')
      const statuses: number[] = []
      for (let months = 1; months <= 11; months++)
        statuses.push(
          (await user.via(months % 2 ? d.a : d.b).get(`/reports/monthly?months=${months}`)).status,
        )
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200))
      expect(statuses[10]).toBe(429)
      expect((await user.via(d.b).get('/reports/monthly?months=3')).status).toBe(200) // cached: no generation
    })

    it("drops a user's reports when their transactions change, and clears by pattern", async () => {
      const demo = await login(d.a)
      const onB = demo.via(d.b)
      await demo.json('/reports/monthly?months=12')
      const [account] = await d.queries.accounts(1)
      const created = await addExpense(onB, account!.id, 100)
      expect(created.status).toBe(201)
      const admin = adminPage(demo)
      expect(await admin.key('report_monthly:1:12')).toBeUndefined()
      expect((await demo.get('/reports/monthly?months=12')).headers.get('x-cache-misses')).toBe('1')
      await demo.json('/reports/categories?months=12')
      expect((await onB.get('/reports/categories?months=12')).headers.get('x-cache-hits')).toBe('1')
      expect(await admin.clear('report_categories:1:*')).toBeGreaterThan(0)
      expect(await admin.key('report_categories:1:12')).toBeUndefined()
      expect((await onB.get('/reports/categories?months=12')).headers.get('x-cache-misses')).toBe('1')
    })
  })
}
