import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import type { Browser } from 'playwright-core'

/**
 * Debian's `chromium`, driven by playwright-core; a browser is never downloaded. Under `CI=true` a
 * missing binary throws, so a browser suite fails instead of being silently skipped.
 */
let executable: string | null | undefined

export function chromiumPath(): string | null {
  if (executable !== undefined) return executable
  try {
    executable = execFileSync('which', ['chromium'], { encoding: 'utf8', timeout: 5000 }).trim() || null
  } catch {
    executable = null
  }
  if (executable === null && process.env['CI'] === 'true') {
    throw new Error(
      'CI=true and `chromium` is not installed (apt-get install chromium); browser suites must not be skipped in CI',
    )
  }
  return executable
}

export function browserAvailable(): boolean {
  return chromiumPath() !== null
}

/** Launches headless Chromium with the flags this machine needs. Close it in `afterAll`. */
export async function launchBrowser(): Promise<Browser> {
  const path = chromiumPath()
  if (path === null) throw new Error('chromium is not installed')
  const { chromium } = await import('playwright-core')
  return chromium.launch({
    executablePath: path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}

/** Where test runs save screenshots (`.ci/screenshots/<suite>`, ignored by git). */
export function screenshotDir(suite: string): string {
  const dir = new URL(`../../.ci/screenshots/${suite}/`, import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  return dir
}
