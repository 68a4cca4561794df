/**
 * The UI in headless Chromium: password login, the dashboard, a transfer made in one page that
 * updates the balance live in a second page (SSE), and login with a one-time PIN.
 */

import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserAvailable, launchBrowser, screenshotDir } from '../../test/support/browser.js'
import { money } from '../http/views.js'
import { startTestApp, type TestApp } from './support.js'

describe.skipIf(!browserAvailable())(
  'UI in a browser: login, dashboard, live balance after a transfer, PIN login',
  () => {
    let app: TestApp
    let browser: Browser
    const shots = screenshotDir('refapp')
    beforeAll(async () => {
      app = await startTestApp({ THROTTLE_LOGIN: '1000/min', THROTTLE_PIN: '1000/min' })
      browser = await launchBrowser()
    }, 120_000)
    afterAll(async () => {
      await browser?.close()
      await app?.close()
    })

    it('logs in, shows the dashboard, and a transfer in one page updates the other page live', async () => {
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(`${app.url}/login`)
      await page.fill('form[action="/login"] input[name=username]', 'demo')
      await page.fill('form[action="/login"] input[name=password]', 'demo')
      await Promise.all([page.waitForURL(`${app.url}/`), page.click('form[action="/login"] button')])
      expect(await page.textContent('h1')).toContain('Hello, demo')
      expect(await page.textContent('main')).toContain('Last six months')

      const watcher = await context.newPage()
      await watcher.goto(`${app.url}/`)
      const [from, to] = await app.services.queries.accounts(1)
      const cell = `[data-account="${to!.id}"]`
      expect(await watcher.textContent(cell)).toBe(money(to!.balance))
      // The page marks its EventSource open once the stream answered.
      await watcher.waitForSelector('body[data-live="open"]', { timeout: 15_000 })

      await page.selectOption('#transfer select[name=from]', String(from!.id))
      await page.selectOption('#transfer select[name=to]', String(to!.id))
      await page.fill('#transfer input[name=amount]', '12.34')
      await Promise.all([page.waitForURL(`${app.url}/`), page.click('#transfer button')])
      const expected = money(to!.balance + 1234)
      await watcher.waitForFunction(
        `document.querySelector(${JSON.stringify(cell)})?.textContent === ${JSON.stringify(expected)}`,
        undefined,
        { timeout: 15_000 },
      )
      expect(await watcher.textContent('#live')).toContain('Updated live (transfer)')
      await watcher.screenshot({ path: `${shots}dashboard-live.png`, fullPage: true })
      // The page that made the transfer shows the new balance too (from the invalidated cache).
      expect(await page.textContent(cell)).toBe(expected)
      await context.close()
    })

    it('logs in with a one-time PIN from the log', async () => {
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(`${app.url}/login`)
      await page.fill('form[action="/login/pin/request"] input[name=username]', 'user03')
      await page.click('form[action="/login/pin/request"] button')
      await page.waitForSelector('#message')
      const line = [...app.logs].reverse().find((l) => l.startsWith('PIN for user03:'))
      const pin = line?.match(/: (\d{6}) /)?.[1] ?? ''
      expect(pin).toMatch(/^\d{6}$/)
      expect(await page.inputValue('form[action="/login/pin"] input[name=username]')).toBe('user03')
      await page.fill('form[action="/login/pin"] input[name=pin]', pin)
      await Promise.all([page.waitForURL(`${app.url}/`), page.click('form[action="/login/pin"] button')])
      expect(await page.textContent('h1')).toContain('Hello, user03')
      await page.goto(`${app.url}/statistics`)
      expect(await page.textContent('main')).toContain('Expense categories')
      await page.goto(`${app.url}/transactions`)
      expect(await page.locator('table tr').count()).toBeGreaterThan(1)
      await page.screenshot({ path: `${shots}transactions.png`, fullPage: true })
      await context.close()
    })
  },
)
