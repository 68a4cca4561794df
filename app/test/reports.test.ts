/**
 * Seed 2 (course reports) as the app's report generation: a prefix and TTL per report type,
 * 10 generations an hour per user and 100 per address (a cached report is not a generation),
 * reports invalidated by the writes they summarise, clearing by pattern from the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, startTestApp, type TestApp } from './support.js'

describe('reports: per-type prefixes and TTLs, 10 generations/hour per user, 100/hour per address', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp({ THROTTLE_LOGIN: '1000/min' })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('caches each report type under its own prefix and TTL', async () => {
    const demo = await login(app.url)
    const monthly = await demo.json<{ rows: unknown[]; generatedAt: string }>('/reports/monthly?months=6')
    expect(monthly.rows.length).toBeGreaterThan(0)
    expect(await demo.json('/reports/monthly?months=6')).toEqual(monthly) // served from the cache
    await demo.json('/reports/categories?months=6')
    const cache = app.services.cache
    expect(await cache.has('report_monthly:1:6')).toBe(true)
    expect(cache.namespace('report_monthly').makeKey('1:6')).toBe('hlvm:report_monthly:1:6')
    const monthlyTtl = (await cache.ttl('report_monthly:1:6')) as number
    const categoriesTtl = (await cache.ttl('report_categories:1:6')) as number
    expect(monthlyTtl).toBeGreaterThan(50 * 60_000) // 1 hour
    expect(categoriesTtl).toBeLessThanOrEqual(10 * 60_000) // 10 minutes
    const csv = await demo.get('/reports/monthly?months=6&format=csv')
    expect(csv.headers.get('content-type')).toContain('text/csv')
    expect((await csv.text()).split('\n')[0]).toBe('period,label,total_cents,count')
  })

  it('allows 10 generations an hour per user; cached reports stay available', async () => {
    const user = await login(app.url, 'user02')
    const statuses: number[] = []
    for (let months = 1; months <= 11; months++)
      statuses.push((await user.get(`/reports/monthly?months=${months}`)).status)
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200))
    expect(statuses[10]).toBe(429)
    expect((await user.get('/reports/monthly?months=3')).status).toBe(200) // cached: no generation
  })

  it("drops a user's reports when their transactions change, and clears by pattern", async () => {
    const demo = await login(app.url)
    await demo.json('/reports/monthly?months=12')
    const [account] = await app.services.queries.accounts(1)
    await demo.post('/api/transactions', {
      accountId: account!.id,
      categoryId: 25,
      type: 'expense',
      amount: 100,
    })
    expect(await app.services.cache.has('report_monthly:1:12')).toBe(false)
    await demo.json('/reports/categories?months=12')
    expect(await app.services.cache.namespace('report_categories').deletePattern('1:*')).toBeGreaterThan(0)
    expect(await app.services.cache.has('report_categories:1:12')).toBe(false)
  })
})
