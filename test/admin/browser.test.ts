import { copyFileSync, mkdirSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, memoryStore } from '../../src/index.js'
import {
  createLoginGuard,
  createRateLimiter,
  type LoginGuard,
  type RateLimiter,
} from '../../src/ratelimit/index.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { startApp, type TestApp } from '../support/admin-app.js'
import { browserAvailable, launchBrowser, screenshotDir } from '../support/browser.js'
import { type RedisServer, redisAvailable, startRedis } from '../support/redis.js'

const shots = screenshotDir('admin')
const HOSTILE = [
  '<script>window.__xss=1;alert(1)</script>',
  '"><img src=x onerror="window.__xss=2;alert(2)">',
  "'><svg onload=alert(3)>",
  'javascript:alert(4)',
]

interface Backend {
  readonly name: 'memory' | 'redis'
  readonly framework: 'express' | 'hono'
  readonly available: () => boolean
  readonly cache: () => Promise<{ cache: Cache; stop(): Promise<void> }>
}

let server: RedisServer | undefined
const backends: Backend[] = [
  {
    name: 'memory',
    framework: 'express',
    available: browserAvailable,
    cache: async () => {
      const cache = createCache({ store: memoryStore(), prefix: 'shop' })
      return { cache, stop: () => cache.close() }
    },
  },
  {
    name: 'redis',
    framework: 'hono',
    available: () => browserAvailable() && redisAvailable(),
    cache: async () => {
      server = await startRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] })
      const cache = createCache({ store: redisStore({ url: server.url }), prefix: 'shop' })
      await cache.ready()
      return {
        cache,
        stop: async () => {
          await cache.close()
          await server?.stop()
        },
      }
    },
  },
]

for (const backend of backends) {
  describe.skipIf(!backend.available())(
    `admin page in Chromium (${backend.name}, ${backend.framework})`,
    () => {
      let browser: Browser
      let context: BrowserContext
      let page: Page
      let app: TestApp
      let cache: Cache
      let stop: () => Promise<void>
      let limiter: RateLimiter
      let guard: LoginGuard
      const dialogs: string[] = []
      const shot = (name: string) =>
        page.screenshot({ path: `${shots}${backend.name}-${name}.png`, fullPage: true })

      beforeAll(async () => {
        ;({ cache, stop } = await backend.cache())
        const protection = memoryStore()
        limiter = createRateLimiter({ store: protection, rules: { login: '3/min' } })
        guard = createLoginGuard({ store: protection, failureLimit: 2, coolOff: '15m', lockBy: ['username'] })
        app = await startApp(backend.framework, cache, {
          limiters: { web: limiter },
          guards: { logins: guard },
        })
        browser = await launchBrowser()
        context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
        page = await context.newPage()
        page.on('dialog', (dialog) => {
          dialogs.push(dialog.message())
          void (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss())
        })
      })

      afterAll(async () => {
        await browser?.close()
        await app?.close()
        await stop?.()
      })

      it('sends a visitor without a session to the login form, then lets the admin in', {
        timeout: 90_000,
      }, async () => {
        await page.goto(`${app.url}/admin`)
        expect(new URL(page.url()).pathname).toBe('/login')
        await page.fill('input[name=user]', 'admin')
        await page.fill('input[name=password]', 'wrong')
        await page.click('button')
        expect(await page.textContent('title')).toBe('Sign in')
        await page.fill('input[name=user]', 'admin')
        await page.fill('input[name=password]', 'correct horse')
        await page.click('button')
        await page.waitForURL(`${app.url}/admin`)
        expect(await page.textContent('h1')).toBe('Overview')
        await shot('1-overview-empty')
      })

      it('shows the stats move while a script makes requests', { timeout: 90_000 }, async () => {
        const hits = page.locator('[data-figure="main.hits"]')
        const before = Number((await hits.textContent())?.replace(/,/g, ''))
        let running = true
        const script = (async () => {
          for (let i = 0; running; i++) {
            await fetch(`${app.url}/product/${i % 40}`)
            if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20))
          }
        })()
        try {
          // The page refreshes its figures by itself (progressive JS): no reload here.
          await expect
            .poll(async () => Number((await hits.textContent())?.replace(/,/g, '')), {
              timeout: 30_000,
              interval: 250,
            })
            .toBeGreaterThan(before + 20)
          await expect
            .poll(() => page.locator('svg.chart polyline').count(), { timeout: 30_000 })
            .toBeGreaterThan(0)
        } finally {
          running = false
          await script
        }
        expect(await page.locator('[data-figure="main.misses"]').textContent()).not.toBe('0')
        if (backend.name === 'redis') {
          expect(await page.locator('[data-redis]').textContent()).toContain('allkeys-lru')
          await page.reload()
          expect(await page.locator('[data-redis] table').textContent()).toContain('shop:product')
        }
        await shot('2-overview-live')
        if (backend.name === 'redis') {
          mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true })
          await page.setViewportSize({ width: 900, height: 700 })
          await page.screenshot({ path: `${shots}readme.png`, fullPage: true })
          await page.setViewportSize({ width: 1100, height: 900 })
          if (process.env['ADMIN_README_SCREENSHOT'] === '1') {
            copyFileSync(`${shots}readme.png`, new URL('../../docs/admin.png', import.meta.url).pathname)
          }
        }
      })

      it('searches keys, opens a value, and clears by pattern with the count shown first', {
        timeout: 90_000,
      }, async () => {
        await page.click('nav >> text=Keys')
        await page.fill('input[name=pattern]', 'product:*')
        await page.click('form.row button')
        const rows = page.locator('table.keys tbody tr')
        await expect.poll(() => rows.count()).toBe(40)
        await shot('3-keys')
        await page.locator('table.keys a', { hasText: 'product:7' }).first().click()
        expect(await page.textContent('#value')).toContain('"name": "Product 7"')
        expect(await page.textContent('table.detail')).toMatch(/TTL\d+ min/)
        await shot('4-value')
        await page.goBack()
        await page.click('text=Clear all keys matching this pattern')
        expect(await page.locator('[data-count]').getAttribute('data-count')).toBe('40')
        await shot('5-clear-confirm')
        await cache.set('keep:me', 1)
        await page.click('button.danger')
        await page.waitForSelector('[data-deleted]')
        expect(await page.locator('[data-deleted]').getAttribute('data-deleted')).toBe('40')
        await shot('6-cleared')
        await page.click('text=Search again')
        expect(await page.textContent('main')).toContain('No keys match.')
        expect(await cache.get('keep:me')).toBe(1)
        await page.goto(`${app.url}/admin/clear?cache=main&pattern=product%3A*`)
        expect(await page.textContent('main')).toContain('nothing to clear')
      })

      it('renders hostile key names and values as text: no script runs, no dialog opens', {
        timeout: 90_000,
      }, async () => {
        dialogs.length = 0
        for (const [i, key] of HOSTILE.entries())
          await cache.set(`xss:${key}`, { note: HOSTILE[(i + 1) % HOSTILE.length] })
        await cache.namespace('<b>ns</b>').set('x', 1)
        await page.goto(`${app.url}/admin/keys?cache=main&pattern=xss%3A*`)
        const listed = await page.locator('table.keys td.key').allTextContents()
        expect(listed.sort()).toEqual(HOSTILE.map((k) => `xss:${k}`).sort())
        await shot('7-xss-keys')
        for (const key of HOSTILE) {
          await page.goto(`${app.url}/admin/key?cache=main&key=${encodeURIComponent(`xss:${key}`)}`)
          expect(await page.textContent('table.detail code')).toBe(`xss:${key}`)
          const value = await page.textContent('#value')
          expect(HOSTILE.some((h) => value?.includes(JSON.stringify(h).slice(1, -1)))).toBe(true)
        }
        await shot('8-xss-value')
        await page.goto(`${app.url}/admin`)
        expect(await page.textContent('main')).toContain('<b>ns</b>')
        expect(await page.locator('main img, main b, main svg[onload]').count()).toBe(0)
        expect(await page.evaluate('typeof window.__xss')).toBe('undefined')
        expect(dialogs).toEqual([])
      })

      it('refuses requests without a session or without a CSRF token', { timeout: 90_000 }, async () => {
        await cache.set('guarded', 1)
        const stranger = await browser.newContext()
        const anonymous = await stranger.request.get(`${app.url}/admin/keys?cache=main&pattern=*`, {
          maxRedirects: 0,
        })
        expect(anonymous.status()).toBe(303)
        expect(await anonymous.text()).not.toContain('guarded')
        const blind = await stranger.request.post(`${app.url}/admin/delete`, {
          form: { cache: 'main', key: 'guarded' },
          maxRedirects: 0,
        })
        expect(blind.status()).toBe(303)
        await stranger.close()
        // Signed in (the context has the session and CSRF cookies), but no token: refused.
        const noToken = await context.request.post(`${app.url}/admin/delete`, {
          form: { cache: 'main', key: 'guarded' },
          headers: { origin: app.url },
        })
        expect(noToken.status()).toBe(403)
        const wrong = await context.request.post(`${app.url}/admin/delete`, {
          form: { cache: 'main', key: 'guarded', _csrf: 'forged' },
          headers: { origin: app.url },
        })
        expect(wrong.status()).toBe(403)
        expect(await cache.get('guarded')).toBe(1)
        // The same form, submitted from the page (with its token), works.
        await page.goto(`${app.url}/admin/key?cache=main&key=guarded`)
        await page.click('button.danger')
        await page.waitForSelector('.notice')
        expect(await cache.has('guarded')).toBe(false)
      })

      it('unblocks a rate-limited key and unlocks a locked-out user from the Protection page', {
        timeout: 90_000,
      }, async () => {
        for (let i = 0; i < 4; i++) await limiter.consume('login', '198.51.100.9')
        for (let i = 0; i < 2; i++) {
          await guard.check({ username: 'mallory<b>' })
          await guard.fail({ username: 'mallory<b>' })
        }
        await page.goto(`${app.url}/admin/protection`)
        const limiterCard = page.locator('[data-limiter="web"]')
        await limiterCard.locator('form[method=get] input[name=key]').fill('198.51.100.9')
        await limiterCard.locator('form[method=get] button').click()
        expect(await page.textContent('[data-peek]')).toContain('blocked for')
        expect(await page.textContent('[data-guard="logins"] table')).toContain('mallory<b>')
        await shot('10-protection')
        await page.locator('[data-limiter="web"] form[method=post] input[name=key]').fill('198.51.100.9')
        await page.locator('[data-limiter="web"] form[method=post] button').click()
        await page.waitForSelector('.notice')
        expect(await page.textContent('.notice')).toContain('Unblocked 198.51.100.9')
        expect((await limiter.peek('login', '198.51.100.9')).allowed).toBe(true)
        await page.locator('[data-guard="logins"] input[name=username]').fill('mallory<b>')
        await page.locator('[data-guard="logins"] button').click()
        await page.waitForSelector('.notice >> text=Unlocked')
        expect((await guard.check({ username: 'mallory<b>' })).locked).toBe(false)
        await shot('11-unlocked')
      })

      it('is readable on a phone', { timeout: 90_000 }, async () => {
        const phone = await browser.newContext({
          viewport: { width: 390, height: 844 },
          isMobile: true,
          deviceScaleFactor: 2,
        })
        await phone.addCookies(await context.cookies())
        const small = await phone.newPage()
        await small.goto(`${app.url}/admin`)
        const overflow = await small.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        )
        expect(overflow).toBeLessThanOrEqual(1)
        await small.screenshot({ path: `${shots}${backend.name}-9-phone.png`, fullPage: true })
        await phone.close()
      })
    },
  )
}
