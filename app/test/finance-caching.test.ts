/**
 * Seed 1 (personal finance) against the running app: category trees, six-month statistics and
 * account lists cached per user; every write invalidates what it changed; "has a superuser";
 * sessions in the cache; login lockout; throttling anon 100/hour, user 1000/hour, login 5/min;
 * prefix and version in every key. In-process, and on two app processes sharing Redis and
 * PostgreSQL, with requests alternated between them.
 */
import { describe, expect, it } from 'vitest'
import type { Account, CategoryNode, UserStats } from '../services/finance.js'
import { adminPage, client, getViaBalancer, login, opsStats } from './http.js'
import { inProcess, targets, useDeployment } from './support.js'

for (const target of await targets()) {
  describe(`finance, ${target.name}: cached trees, statistics and accounts, invalidated on every write`, () => {
    const d = useDeployment(target, { THROTTLE_LOGIN: '1000/min', CACHE_VERSION: '3' })

    it('serves the category tree per user, type and depth from the cache after the first read', async () => {
      const demo = await login(d.a)
      const before = await opsStats(d.a)
      const tree = await demo.json<CategoryNode[]>('/api/categories?type=expense&depth=3')
      const afterFirst = await opsStats(d.a)
      expect(afterFirst.dbQueries - before.dbQueries).toBe(1)
      expect(tree.length).toBe(6)
      expect(tree[0]?.children[0]?.children.length).toBe(2) // three levels
      const onB = await opsStats(d.b)
      expect(await demo.via(d.b).json('/api/categories?type=expense&depth=3')).toEqual(tree)
      expect((await opsStats(d.b)).dbQueries).toBe(onB.dbQueries) // a hit, on the other process too
      const shallow = await demo.json<CategoryNode[]>('/api/categories?type=income&depth=1')
      expect(shallow.every((node) => node.children.length === 0)).toBe(true)
      // The seed's key, under the prefix and the deploy version.
      const key = await adminPage(demo).key('category_tree:expense:1:3')
      expect(key?.fullKey).toBe('hlvm:v3:category_tree:expense:1:3')
    })

    it('keeps users apart: each user gets their own tree, accounts and statistics', async () => {
      const demo = await login(d.a)
      const other = await login(d.b, 'user02')
      const [a, b] = await Promise.all([
        demo.json<Account[]>('/api/accounts'),
        other.json<Account[]>('/api/accounts'),
      ])
      expect(a.map((x) => x.id)).not.toEqual(b.map((x) => x.id))
      expect(b).toEqual(await d.queries.accounts(2))
    })

    it('invalidates statistics, transaction pages and balances on a new transaction, and not the trees', async () => {
      const demo = await login(d.a)
      const onB = demo.via(d.b)
      const stats = await onB.json<UserStats>('/api/stats')
      const accounts = await onB.json<Account[]>('/api/accounts')
      await onB.json('/api/transactions?page=1')
      await onB.json('/api/categories?type=expense&depth=3')
      const leaf = (await d.queries.categoryTree(1, 'expense', 3))[0]!.children[0]!.children[0]!
      const account = accounts[0]!
      const created = await demo.post('/api/transactions', {
        accountId: account.id,
        categoryId: leaf.id,
        type: 'expense',
        amount: 4321,
        note: 'test <b>coffee</b>',
      })
      expect(created.status).toBe(201)
      expect(await adminPage(demo).key('category_tree:expense:1:3')).toBeDefined() // untouched
      const fresh = await onB.json<UserStats>('/api/stats')
      const month = new Date().toISOString().slice(0, 7)
      const was = stats.months.find((m) => m.month === month)!
      const now = fresh.months.find((m) => m.month === month)!
      expect(now.expense - was.expense).toBe(4321)
      expect(now.count - was.count).toBe(1)
      expect(fresh).toEqual(await d.queries.stats(1))
      const after = await onB.json<Account[]>('/api/accounts')
      expect(after[0]!.balance).toBe(account.balance - 4321)
      const page = await onB.json<{ note: string; amount: number }[]>('/api/transactions?page=1')
      expect(page[0]).toMatchObject({ note: 'test <b>coffee</b>', amount: 4321 })
      // The HTML page escapes it.
      const html = await (await onB.get('/transactions')).text()
      expect(html).toContain('test &lt;b&gt;coffee&lt;/b&gt;')
      expect(html).not.toContain('<b>coffee</b>')
    })

    it('invalidates the category trees when a category is created', async () => {
      const demo = await login(d.a)
      const onB = demo.via(d.b)
      const before = await onB.json<CategoryNode[]>('/api/categories?type=income&depth=3')
      const created = await demo.post('/api/categories', {
        type: 'income',
        name: 'Lottery',
        parentId: before[0]!.id,
      })
      expect(created.status).toBe(201)
      const after = await onB.json<CategoryNode[]>('/api/categories?type=income&depth=3')
      expect(after[0]!.children.map((c) => c.name)).toContain('Lottery')
      expect(after).toEqual(await d.queries.categoryTree(1, 'income', 3))
    })

    it('caches "has a superuser" and the dashboard fragment', async () => {
      const demo = await login(d.a)
      const onB = demo.via(d.b)
      const page = await demo.get('/')
      expect(page.status).toBe(200)
      expect(page.headers.get('x-setup-needed')).toBeNull()
      const admin = adminPage(demo)
      expect((await admin.key('has_superuser'))?.value).toBe('true')
      expect(await admin.key('fragment:dashboard_summary:1')).toBeDefined()
      await onB.get('/')
      const before = await opsStats(d.b)
      await onB.get('/')
      expect((await opsStats(d.b)).dbQueries).toBe(before.dbQueries) // dashboard entirely from the cache
      // Removing the only superuser deletes the key: the next page says setup is needed.
      expect((await demo.post('/api/users/1/superuser', { value: false })).status).toBe(200)
      expect((await onB.get('/')).headers.get('x-setup-needed')).toBe('no superuser yet')
      expect((await onB.post('/api/users/1/superuser', { value: true })).status).toBe(200)
      expect((await demo.get('/')).headers.get('x-setup-needed')).toBeNull()
      const member = await login(d.b, 'user02')
      expect((await member.post('/api/users/2/superuser', { value: true })).status).toBe(403)
    })

    it('keeps sessions in the cache, renews the id on login and ends them on logout', async () => {
      const demo = await login(d.a)
      if (d.app) expect((await d.app.services.sessions.sessionsOf('1')).length).toBeGreaterThan(0)
      const onB = demo.via(d.b)
      expect(await onB.json('/api/me')).toMatchObject({ id: 1, username: 'demo', role: 'staff' })
      const old = demo.cookie
      const again = await onB.post('/api/login', { username: 'demo', password: 'demo' })
      expect(again.status).toBe(200)
      expect(demo.cookie).not.toBe(old) // regenerated
      const stale = client(d.a)
      stale.cookie = old
      expect((await stale.get('/api/me')).status).toBe(401) // the old id is gone everywhere
      await demo.post('/api/logout')
      expect((await onB.get('/api/me')).status).toBe(401)
      expect((await client(d.b).get('/')).headers.get('location')).toBe('/login')
    })

    it('sets X-Cache-Hits/Misses/Response-Time on the API, serves /metrics, and caches public pages with ETag/304', async () => {
      const demo = await login(d.a)
      await demo.json('/api/accounts')
      const hit = await demo.via(d.b).get('/api/accounts')
      expect(hit.headers.get('x-cache-hits')).toBe('1')
      expect(hit.headers.get('x-cache-misses')).toBe('0')
      expect(hit.headers.get('x-response-time')).toBeTruthy()
      const metrics = await client(d.b).get('/metrics')
      expect(metrics.status).toBe(200)
      expect(await metrics.text()).toContain('cachekit')
      // A page cached through one process is revalidated through the other (one public host name).
      const first = await getViaBalancer(d.a, '/public/merchants')
      expect(first.status).toBe(200)
      expect(first.headers.etag).toBeTruthy()
      // Stored once A answers it as a hit: on a busy machine the first fill may be served
      // uncached (a refusal the Cache-Status header names), and then the next request stores it.
      let stored = first
      for (let i = 0; i < 20 && !String(stored.headers['cache-status']).includes('hit'); i++) {
        stored = await getViaBalancer(d.a, '/public/merchants')
      }
      const etag = stored.headers.etag ?? ''
      const again = await getViaBalancer(d.b, '/public/merchants', { 'if-none-match': etag })
      expect(
        again.status,
        `A: ${String(stored.headers['cache-status'])}; B: ${String(again.headers['cache-status'])}`,
      ).toBe(304)
    })

    it('mounts the admin page under /admin/cache for staff only', async () => {
      const staff = await login(d.a)
      await staff.json('/api/stats')
      const page = await staff.via(d.b).get('/admin/cache')
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('cache admin')
      const member = await login(d.b, 'user02')
      expect((await member.via(d.a).get('/admin/cache')).status).toBe(403)
      expect((await client(d.b).get('/admin/cache')).headers.get('location')).toBe('/login')
    })

    it('locks a user out for this address after 5 failed logins on one process, on the other too', async () => {
      const c = client(d.a)
      const statuses: number[] = []
      for (let i = 0; i < 5; i++)
        statuses.push((await c.post('/api/login', { username: 'user03', password: `bad${i}` })).status)
      expect(statuses).toEqual([401, 401, 401, 401, 401])
      const locked = await c.via(d.b).post('/api/login', { username: 'user03', password: 'demo' })
      expect(locked.status).toBe(429)
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
      // The admin page (on B) shows the lockout and lifts it; A lets the user in again.
      const admin = adminPage(await login(d.b))
      expect((await admin.lockoutLog())[0]).toMatchObject({ kind: 'lockout', username: 'user03' })
      await admin.unlock('user03')
      expect((await admin.lockoutLog())[0]).toMatchObject({ username: 'user03', by: 'demo' })
      expect((await c.post('/api/login', { username: 'user03', password: 'demo' })).status).toBe(200)
    })

    it('gives members 1000/hour and staff 5000/hour, and anonymous clients 100/hour', async () => {
      const member = await login(d.a, 'user02')
      const staff = await login(d.b, 'demo')
      expect((await member.get('/api/accounts')).headers.get('ratelimit-policy')).toContain('q=1000')
      expect((await staff.get('/api/accounts')).headers.get('ratelimit-policy')).toContain('q=5000')
      const anon = await client(d.a).get('/public/merchants')
      expect(anon.headers.get('ratelimit-policy')).toContain('q=100')
      expect(anon.headers.get('ratelimit-policy')).toContain('w=3600')
    })

    // Last: it spends this address's anonymous allowance for the hour (logins included).
    it('refuses anonymous requests past 100 in an hour, counted across processes', async () => {
      const statuses: number[] = []
      for (let i = 0; i < 101; i++) statuses.push((await client(i % 2 ? d.b : d.a).get('/login')).status)
      expect(statuses.at(-1)).toBe(429)
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(100)
      expect((await client(d.a).get('/login')).status).toBe(429)
      expect((await client(d.b).get('/login')).status).toBe(429)
      expect((await client(d.b).get('/healthz')).status).toBe(200) // ops routes are not throttled
    })
  })
}

// In-process only: the processes above run with a login rule of 1000/min, as their other tests
// log in more than 5 times a minute from one address.
describe('finance, in-process: login 5/min per address', () => {
  const d = useDeployment(inProcess)

  it('allows 5 logins a minute per address, then answers 429 with Retry-After', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push((await client(d.a).post('/api/login', { username: 'user04', password: 'demo' })).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200])
    const refused = await client(d.a).post('/api/login', { username: 'user04', password: 'demo' })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
