import { afterEach, describe, expect, it } from 'vitest'
import { AdminAuthorizationRequiredError, type AdminHandler, adminHandler } from '../../src/admin/index.js'
import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { createLoginGuard, createRateLimiter } from '../../src/ratelimit/index.js'
import { Client } from '../support/admin-client.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const item of open.splice(0)) await item.close()
})

function setup(extra: Partial<Parameters<typeof adminHandler>[0]> = {}): {
  cache: Cache
  admin: AdminHandler
} {
  const cache = createCache({ store: memoryStore(), prefix: 'app' })
  const admin = adminHandler({
    caches: { main: cache },
    authorize: (request) => request.headers.get('authorization') === 'Bearer good',
    basePath: '/admin',
    ...extra,
  })
  open.push(admin, cache)
  return { cache, admin }
}

describe('adminHandler', () => {
  it('refuses to exist without authorize (a typed error)', () => {
    const cache = createCache({ store: memoryStore() })
    open.push(cache)
    // @ts-expect-error authorize is required by the types, too
    expect(() => adminHandler({ caches: { main: cache } })).toThrow(AdminAuthorizationRequiredError)
    try {
      // @ts-expect-error
      adminHandler({ caches: { main: cache } })
    } catch (error) {
      expect((error as AdminAuthorizationRequiredError).code).toBe('E_ADMIN_AUTHORIZE_REQUIRED')
    }
  })

  it('answers 401 on every route when authorize says no, or throws, and reveals nothing', async () => {
    const { cache, admin } = setup()
    await cache.set('secret-key', 'secret-value')
    for (const path of [
      '/admin',
      '/admin/keys?pattern=*',
      '/admin/key?cache=main&key=secret-key',
      '/admin/stats.json',
    ]) {
      const res = await admin(
        new Request(`http://admin.test${path}`, { headers: { authorization: 'Bearer bad' } }),
      )
      expect(res.status).toBe(401)
      const body = await res.text()
      expect(body).not.toContain('secret')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    }
    const throwing = adminHandler({
      caches: { main: cache },
      authorize: () => {
        throw new Error('session store down')
      },
    })
    open.push(throwing)
    expect((await throwing(new Request('http://admin.test/admin'))).status).toBe(401)
    const res = await admin(
      new Request('http://admin.test/admin/delete', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'cache=main&key=secret-key',
      }),
    )
    expect(res.status).toBe(401)
    expect(await cache.get('secret-key')).toBe('secret-value')
  })

  it('lets the app answer refused requests itself (a redirect to its login page)', async () => {
    const { admin } = setup({ unauthorized: () => Response.redirect('http://admin.test/login', 303) })
    const res = await admin(new Request('http://admin.test/admin'))
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('http://admin.test/login')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  })

  it('serves pages with a strict CSP (nonce, no inline without it), no framing, no caching', async () => {
    const { admin } = setup()
    const client = new Client(admin)
    const { res, html } = await client.get('/admin')
    expect(res.status).toBe(200)
    const csp = res.headers.get('content-security-policy') as string
    expect(csp).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+'; style-src 'nonce-/)
    expect(csp).not.toContain('unsafe-inline')
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] as string
    expect(html).toContain(`<script nonce="${nonce}">`)
    expect(html.match(/<script/g)?.length).toBe(1)
    expect(html).not.toMatch(/ style="/)
    expect(html).not.toMatch(/(src|href)="https?:/)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('set-cookie')).toMatch(
      /^cachekit_admin_csrf=[\w-]+; Path=\/admin; HttpOnly; SameSite=Strict$/,
    )
    expect(html).toContain('<meta name="viewport"')
    const again = await client.get('/admin')
    expect(again.res.headers.get('content-security-policy')).not.toBe(csp)
  })

  it('refuses actions with a missing or wrong CSRF token, another origin, or a token of another user', async () => {
    const { cache, admin } = setup()
    await cache.set('k', 1)
    const client = new Client(admin)
    const { html } = await client.get('/admin/keys?cache=main&pattern=*')
    const token = Client.token(html)
    expect((await client.post('/admin/delete', { cache: 'main', key: 'k' })).res.status).toBe(403)
    expect(
      (await client.post('/admin/delete', { cache: 'main', key: 'k', _csrf: 'x'.repeat(43) })).res.status,
    ).toBe(403)
    expect(
      (
        await client.post(
          '/admin/delete',
          { cache: 'main', key: 'k', _csrf: token },
          { origin: 'http://evil.test' },
        )
      ).res.status,
    ).toBe(403)
    const noCookie = new Client(admin)
    expect((await noCookie.post('/admin/delete', { cache: 'main', key: 'k', _csrf: token })).res.status).toBe(
      403,
    )
    // The same browser, signed in as someone else: the token was bound to the first Authorization.
    const other = adminHandler({
      caches: { main: cache },
      authorize: () => true,
      secret: 'a'.repeat(32),
    })
    open.push(other)
    const alice = new Client(other, 'http://admin.test', 'Bearer alice')
    const aliceToken = Client.token((await alice.get('/admin/keys')).html)
    const bob = new Client(other, 'http://admin.test', 'Bearer bob')
    bob.cookie = alice.cookie
    expect((await bob.post('/admin/delete', { cache: 'main', key: 'k', _csrf: aliceToken })).res.status).toBe(
      403,
    )
    expect(await cache.get('k')).toBe(1)
    // The right token works, from the form field or the header.
    const done = await client.post('/admin/delete', { cache: 'main', key: 'k', _csrf: token })
    expect(done.res.status).toBe(200)
    expect(done.html).toContain('Deleted k')
    expect(await cache.has('k')).toBe(false)
    await cache.set('k2', 2)
    expect(
      (await client.post('/admin/delete', { cache: 'main', key: 'k2' }, { 'x-csrf-token': token })).res
        .status,
    ).toBe(200)
    expect(await cache.has('k2')).toBe(false)
  })

  it('never mutates on GET (or other methods), whatever the query says', async () => {
    const { cache, admin } = setup()
    await cache.setMany({ a: 1, b: 2, 'c:1': 3 })
    const client = new Client(admin)
    const token = Client.token((await client.get('/admin/keys')).html)
    for (const path of [
      '/admin/delete?cache=main&key=a',
      '/admin/clear?cache=main&pattern=*&confirm=yes',
      `/admin/delete?cache=main&key=b&_csrf=${token}`,
      '/admin/unblock?limiter=x&scope=y&key=z',
    ]) {
      const { res } = await client.get(path)
      expect([200, 405]).toContain(res.status)
    }
    const put = await admin(
      new Request('http://admin.test/admin/delete', {
        method: 'PUT',
        headers: {
          authorization: 'Bearer good',
          cookie: client.cookie,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `cache=main&key=a&_csrf=${token}`,
      }),
    )
    expect(put.status).toBe(405)
    expect([...(await cache.getMany(['a', 'b', 'c:1'])).values()]).toEqual([1, 2, 3])
  })

  it('escapes hostile keys and values everywhere they appear', async () => {
    const { cache, admin } = setup({ redact: false })
    const hostile = [
      '<script>alert(1)</script>',
      '"><img src=x onerror=alert(2)>',
      "'><svg onload=alert(3)>",
      '`$' + '{x}`&amp;',
    ]
    for (const [i, key] of hostile.entries())
      await cache.set(key, { html: hostile[(i + 1) % hostile.length] })
    await cache.namespace('<b>ns</b>').set('x', 1)
    const client = new Client(admin)
    const pages = [
      (await client.get('/admin')).html,
      (await client.get('/admin/keys?cache=main&pattern=*')).html,
    ]
    for (const key of hostile) {
      pages.push((await client.get(`/admin/key?cache=main&key=${encodeURIComponent(key)}`)).html)
      pages.push((await client.get(`/admin/clear?cache=main&pattern=${encodeURIComponent(key)}`)).html)
    }
    for (const html of pages) {
      expect(html).not.toMatch(/<script>alert|<img src=x|<svg onload|<b>ns/)
      expect(html.match(/<script/g)?.length).toBe(1)
    }
    const keys = pages[1] as string
    expect(keys).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(keys).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;')
    expect(pages[0]).toContain('&lt;b&gt;ns&lt;/b&gt;')
  })

  it('pages a key search by cursor and counts before clearing by pattern', async () => {
    const { cache, admin } = setup({ pageSize: 10 })
    for (let i = 0; i < 25; i++) await cache.set(`user:${i}`, i)
    await cache.set('other', 1)
    const client = new Client(admin)
    const seen = new Set<string>()
    let path = '/admin/keys?cache=main&pattern=user%3A*'
    for (let pages = 0; pages < 5 && path; pages++) {
      const { html } = await client.get(path)
      for (const m of html.matchAll(/key=(user%3A\d+)"/g)) seen.add(decodeURIComponent(m[1] as string))
      const next = /href="([^"]+)" rel="next"/.exec(html)?.[1]
      path = next ? next.replaceAll('&amp;', '&') : ''
    }
    expect(seen.size).toBe(25)
    const expired = await client.get('/admin/keys?cache=main&pattern=user%3A*&cursor=nope')
    expect(expired.html).toContain('This search has expired')
    const confirm = await client.get('/admin/clear?cache=main&pattern=user%3A*')
    expect(confirm.html).toContain('data-count="25"')
    const token = Client.token(confirm.html)
    const form = { cache: 'main', pattern: 'user:*', _csrf: token }
    const unconfirmed = await client.post('/admin/clear', form)
    expect(unconfirmed.res.status).toBe(400)
    expect(await cache.has('user:1')).toBe(true)
    const cleared = await client.post('/admin/clear', { ...form, confirm: 'yes' })
    expect(cleared.html).toContain('data-deleted="25"')
    expect(await cache.has('other')).toBe(true)
    expect((await client.get('/admin/clear?cache=main&pattern=user%3A*')).html).toContain(
      'No keys in main match',
    )
  })

  it('shows a decoded value with type, TTL and redacted secrets, without counting a hit', async () => {
    const { cache, admin } = setup()
    await cache.set(
      'profile',
      { name: 'Ann', password: 'hunter2', born: new Date('2000-01-02T00:00:00Z'), n: 12n },
      { ttl: '5m' },
    )
    const before = cache.stats()
    const { html } = await new Client(admin).get('/admin/key?cache=main&key=profile')
    expect(html).toContain('&quot;name&quot;: &quot;Ann&quot;')
    expect(html).toContain('[redacted]')
    expect(html).not.toContain('hunter2')
    expect(html).toContain('Date(2000-01-02T00:00:00.000Z)')
    expect(html).toContain('12n')
    expect(html).toContain('<td>5 min</td>')
    const after = cache.stats()
    expect([after.hits, after.misses]).toEqual([before.hits, before.misses])
  })

  it('reports stats as JSON and draws the ops/s chart from samples', async () => {
    const { cache, admin } = setup({ sampleInterval: 100 })
    const client = new Client(admin)
    await client.get('/admin')
    await cache.set('a', 1)
    for (let i = 0; i < 10; i++) await cache.get('a')
    const json = await client.get('/admin/stats.json')
    expect(json.res.headers.get('content-type')).toBe('application/json')
    expect(JSON.parse(json.html).caches.main).toMatchObject({ hits: 10, sets: 1 })
    await expect
      .poll(async () => (await client.get('/admin')).html, { timeout: 10_000 })
      .toContain('<polyline')
  })

  it('unblocks a rate-limited key and unlocks a locked-out user, with CSRF', async () => {
    const store = memoryStore()
    const limiter = createRateLimiter({ store, rules: { login: '2/min' } })
    const guard = createLoginGuard({ store, failureLimit: 2, coolOff: '15m', lockBy: ['username'] })
    const { admin } = setup({ limiters: { web: limiter }, guards: { logins: guard } })
    open.push(limiter, guard)
    for (let i = 0; i < 3; i++) await limiter.consume('login', '203.0.113.7')
    for (let i = 0; i < 2; i++) {
      await guard.check({ username: 'ann' })
      await guard.fail({ username: 'ann' })
    }
    expect((await limiter.peek('login', '203.0.113.7')).allowed).toBe(false)
    expect((await guard.check({ username: 'ann' })).locked).toBe(true)
    const client = new Client(admin)
    const page = await client.get('/admin/protection?limiter=web&scope=login&key=203.0.113.7')
    expect(page.html).toContain('blocked for')
    expect(page.html).toContain('lockout')
    const token = Client.token(page.html)
    const target = { limiter: 'web', scope: 'login', key: '203.0.113.7' }
    expect((await client.post('/admin/unblock', target)).res.status).toBe(403)
    const unblocked = await client.post('/admin/unblock', { ...target, _csrf: token })
    expect(unblocked.html).toContain('Unblocked 203.0.113.7')
    expect((await limiter.peek('login', '203.0.113.7')).allowed).toBe(true)
    const unlock = { guard: 'logins', username: 'ann', mode: 'unlock', _csrf: token }
    const unlocked = await client.post('/admin/unlock', unlock)
    expect(unlocked.html).toContain('Unlocked user ann: 1 lock record(s) changed')
    expect((await guard.check({ username: 'ann' })).locked).toBe(false)
  })
})

describe('adminHandler lifecycle', () => {
  it('never keeps the process alive: a handler left open lets the process exit', async () => {
    const { execFile } = await import('node:child_process')
    const root = new URL('../..', import.meta.url).pathname
    const code = `
      import { adminHandler } from './src/admin/index.ts'
      import { createCache, memoryStore } from './src/index.ts'
      const cache = createCache({ store: memoryStore() })
      const admin = adminHandler({ caches: { main: cache }, authorize: () => true, sampleInterval: 100 })
      const res = await admin(new Request('http://x/admin'))
      console.log('served', res.status)`
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code],
        { cwd: root, timeout: 60_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      )
    })
    expect(out.trim()).toBe('served 200')
  })

  it('close() stops the sampler and answers 503 afterwards', async () => {
    const { admin } = setup()
    await admin.close()
    await admin.close()
    const res = await admin(
      new Request('http://admin.test/admin', { headers: { authorization: 'Bearer good' } }),
    )
    expect(res.status).toBe(503)
  })
})
