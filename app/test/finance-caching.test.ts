/**
 * Seed 1 (personal finance) against the running app: category trees, six-month statistics and
 * account lists cached per user; every write invalidates what it changed; "has a superuser";
 * sessions in the cache; login lockout; throttling anon 100/hour, user 1000/hour, login 5/min;
 * prefix and version in every key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Account, CategoryNode, UserStats } from '../services/finance.js'
import { client, login, startTestApp, type TestApp } from './support.js'

describe('finance: cached trees, statistics and accounts, invalidated on every write', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp({ THROTTLE_LOGIN: '1000/min', CACHE_VERSION: '3' })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('serves the category tree per user, type and depth from the cache after the first read', async () => {
    const demo = await login(app.url)
    const before = app.services.db.queries
    const tree = await demo.json<CategoryNode[]>('/api/categories?type=expense&depth=3')
    const afterFirst = app.services.db.queries
    expect(afterFirst - before).toBe(1)
    expect(tree.length).toBe(6)
    expect(tree[0]?.children[0]?.children.length).toBe(2) // three levels
    expect(await demo.json('/api/categories?type=expense&depth=3')).toEqual(tree)
    expect(app.services.db.queries).toBe(afterFirst) // a hit: no query
    const shallow = await demo.json<CategoryNode[]>('/api/categories?type=income&depth=1')
    expect(shallow.every((node) => node.children.length === 0)).toBe(true)
    // The seed's key, under the prefix and the deploy version.
    expect(app.services.cache.makeKey('category_tree:expense:1:3')).toBe('hlvm:v3:category_tree:expense:1:3')
    expect(await app.services.cache.has('category_tree:expense:1:3')).toBe(true)
  })

  it('keeps users apart: each user gets their own tree, accounts and statistics', async () => {
    const demo = await login(app.url)
    const other = await login(app.url, 'user02')
    const [a, b] = await Promise.all([
      demo.json<Account[]>('/api/accounts'),
      other.json<Account[]>('/api/accounts'),
    ])
    expect(a.map((x) => x.id)).not.toEqual(b.map((x) => x.id))
    expect(b).toEqual(await app.services.queries.accounts(2))
  })

  it('invalidates statistics, transaction pages and balances on a new transaction, and not the trees', async () => {
    const demo = await login(app.url)
    const stats = await demo.json<UserStats>('/api/stats')
    const accounts = await demo.json<Account[]>('/api/accounts')
    await demo.json('/api/transactions?page=1')
    await demo.json('/api/categories?type=expense&depth=3')
    const leaf = (await app.services.queries.categoryTree(1, 'expense', 3))[0]!.children[0]!.children[0]!
    const account = accounts[0]!
    const created = await demo.post('/api/transactions', {
      accountId: account.id,
      categoryId: leaf.id,
      type: 'expense',
      amount: 4321,
      note: 'test <b>coffee</b>',
    })
    expect(created.status).toBe(201)
    expect(await app.services.cache.has('category_tree:expense:1:3')).toBe(true) // untouched
    const fresh = await demo.json<UserStats>('/api/stats')
    const month = new Date().toISOString().slice(0, 7)
    const was = stats.months.find((m) => m.month === month)!
    const now = fresh.months.find((m) => m.month === month)!
    expect(now.expense - was.expense).toBe(4321)
    expect(now.count - was.count).toBe(1)
    expect(fresh).toEqual(await app.services.queries.stats(1))
    const after = await demo.json<Account[]>('/api/accounts')
    expect(after[0]!.balance).toBe(account.balance - 4321)
    const page = await demo.json<{ note: string; amount: number }[]>('/api/transactions?page=1')
    expect(page[0]).toMatchObject({ note: 'test <b>coffee</b>', amount: 4321 })
    // The HTML page escapes it.
    const html = await (await demo.get('/transactions')).text()
    expect(html).toContain('test &lt;b&gt;coffee&lt;/b&gt;')
    expect(html).not.toContain('<b>coffee</b>')
  })

  it('invalidates the category trees when a category is created', async () => {
    const demo = await login(app.url)
    const before = await demo.json<CategoryNode[]>('/api/categories?type=income&depth=3')
    const created = await demo.post('/api/categories', {
      type: 'income',
      name: 'Lottery',
      parentId: before[0]!.id,
    })
    expect(created.status).toBe(201)
    const after = await demo.json<CategoryNode[]>('/api/categories?type=income&depth=3')
    expect(after[0]!.children.map((c) => c.name)).toContain('Lottery')
    expect(after).toEqual(await app.services.queries.categoryTree(1, 'income', 3))
  })

  it('caches "has a superuser" and the dashboard fragment', async () => {
    const demo = await login(app.url)
    const page = await demo.get('/')
    expect(page.status).toBe(200)
    expect(page.headers.get('x-setup-needed')).toBeNull()
    expect(await app.services.cache.get('has_superuser')).toBe(true)
    expect(await app.services.cache.has('fragment:dashboard_summary:1')).toBe(true)
    const before = app.services.db.queries
    await demo.get('/')
    expect(app.services.db.queries).toBe(before) // dashboard entirely from the cache
    // Removing the only superuser deletes the key: the next page says setup is needed.
    expect((await demo.post('/api/users/1/superuser', { value: false })).status).toBe(200)
    expect((await demo.get('/')).headers.get('x-setup-needed')).toBe('no superuser yet')
    expect((await demo.post('/api/users/1/superuser', { value: true })).status).toBe(200)
    expect((await demo.get('/')).headers.get('x-setup-needed')).toBeNull()
    const member = await login(app.url, 'user02')
    expect((await member.post('/api/users/2/superuser', { value: true })).status).toBe(403)
  })

  it('keeps sessions in the cache, renews the id on login and ends them on logout', async () => {
    const demo = await login(app.url)
    const listed = await app.services.sessions.sessionsOf('1')
    expect(listed.length).toBeGreaterThan(0)
    expect(await demo.json('/api/me')).toMatchObject({ id: 1, username: 'demo', role: 'staff' })
    const id = demo.cookie
    const again = await demo.post('/api/login', { username: 'demo', password: 'demo' })
    expect(again.status).toBe(200)
    expect(demo.cookie).not.toBe(id) // regenerated
    await demo.post('/api/logout')
    expect((await demo.get('/api/me')).status).toBe(401)
    expect((await client(app.url).get('/')).headers.get('location')).toBe('/login')
  })

  it('sets X-Cache-Hits/Misses/Response-Time on the API, serves /metrics, and caches public pages with ETag/304', async () => {
    const demo = await login(app.url)
    await demo.json('/api/accounts')
    const hit = await demo.get('/api/accounts')
    expect(hit.headers.get('x-cache-hits')).toBe('1')
    expect(hit.headers.get('x-cache-misses')).toBe('0')
    expect(hit.headers.get('x-response-time')).toBeTruthy()
    const metrics = await client(app.url).get('/metrics')
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toContain('cachekit')
    const first = await fetch(`${app.url}/public/merchants`)
    const etag = first.headers.get('etag')
    expect(first.status).toBe(200)
    expect(etag).toBeTruthy()
    const again = await fetch(`${app.url}/public/merchants`, { headers: { 'if-none-match': etag ?? '' } })
    expect(again.status).toBe(304)
  })

  it('mounts the admin page under /admin/cache for staff only', async () => {
    const staff = await login(app.url)
    await staff.json('/api/stats')
    const page = await staff.get('/admin/cache')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('cache admin')
    const member = await login(app.url, 'user02')
    expect((await member.get('/admin/cache')).status).toBe(403)
    expect((await client(app.url).get('/admin/cache')).headers.get('location')).toBe('/login')
  })

  it('locks a user out for this address after 5 failed logins, even with the right password', async () => {
    const c = client(app.url)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push((await c.post('/api/login', { username: 'user03', password: `bad${i}` })).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401])
    const locked = await c.post('/api/login', { username: 'user03', password: 'demo' })
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
    const log = await app.services.guard.lockoutLog(5)
    expect(log[0]).toMatchObject({ kind: 'lockout', username: 'user03' })
    await app.services.guard.unlock({ username: 'user03' }, { by: 'test' })
    expect((await c.post('/api/login', { username: 'user03', password: 'demo' })).status).toBe(200)
  })
})

describe('finance: throttling anon 100/hour, user 1000/hour, staff more, login 5/min', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp()
  })
  afterAll(async () => {
    await app?.close()
  })

  it('allows 5 logins a minute per address, then answers 429 with Retry-After', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await client(app.url).post('/api/login', { username: 'user04', password: 'demo' })).status,
      )
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
  })

  it('tells anonymous clients their policy in the RateLimit headers', async () => {
    const member = client(app.url)
    const anon = await member.get('/public/merchants')
    expect(anon.headers.get('ratelimit-policy')).toContain('q=100')
    expect(anon.headers.get('ratelimit-policy')).toContain('w=3600')
  })

  it('refuses the 101st anonymous request in an hour', async () => {
    const c = client(app.url)
    let last = 0
    let refused = 0
    for (let i = 0; i < 101; i++) {
      last = (await c.get('/login')).status
      if (last === 429) refused++
    }
    expect(last).toBe(429)
    expect(refused).toBeGreaterThanOrEqual(1)
    expect((await c.get('/healthz')).status).toBe(200) // ops routes are not throttled
  })
})

describe('finance: per-role policies for signed-in users', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp({ THROTTLE_LOGIN: '1000/min' })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('gives members 1000/hour and staff 5000/hour', async () => {
    const member = await login(app.url, 'user02')
    const staff = await login(app.url, 'demo')
    expect((await member.get('/api/accounts')).headers.get('ratelimit-policy')).toContain('q=1000')
    expect((await staff.get('/api/accounts')).headers.get('ratelimit-policy')).toContain('q=5000')
  })
})
