import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CacheError } from '../../src/index.js'
import { redactSecrets, scrubber } from '../../src/internal/redact.js'
import { toStoreError } from '../../src/stores/sql/errors.js'
import { passwordsOfUrl } from '../../src/stores/sql/url.js'

describe('redactSecrets', () => {
  it('hides credentials in any URL-like text inside a message', () => {
    const cases: [string, string][] = [
      ['connect redis:/default:pw@host:6379 failed', 'connect redis:/default:***@host:6379 failed'],
      ['to rediss:/admin:pw@h, then', 'to rediss:/admin:***@h, then'],
      ['auth default:pw@host refused', 'auth default:***@host refused'],
      ['at "postgres://app:s%40cret@db:5432/x"', 'at "postgres://app:***@db:5432/x"'],
      ['url mysql://root@db', 'url mysql://***@db'],
      ['host=db password=hunter2 user=app', 'host=db password=*** user=app'],
      ['{"user":"a","password":"hunter2"}', '{"user":"a","password":"***"}'],
      ['?pwd=x&token=y&ok=1', '?pwd=***&token=***&ok=1'],
    ]
    for (const [text, expected] of cases) expect(redactSecrets(text)).toBe(expected)
  })

  it('leaves text without secrets alone, e-mail addresses included', () => {
    for (const text of ['alice@example.com locked', 'redis://host:6379/0', 'E_VALUE_CORRUPT at 12:30']) {
      expect(redactSecrets(text)).toBe(text)
    }
  })

  it('scrubs configured passwords in every form, wherever a driver echoes them (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 10 }), (tail) => {
        const secret = `Zq${tail}`
        const scrub = scrubber([secret])
        for (const text of [`bad password ${secret}!`, `in ${encodeURIComponent(secret)} here`, secret]) {
          expect(scrub(text)).not.toContain('Zq')
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('SQL secrets', () => {
  it('finds the password of URLs that do not parse as URLs', () => {
    expect(passwordsOfUrl('postgres:/app:pw@db/x')).toContain('pw')
    expect(passwordsOfUrl('app:p%40w@db')).toEqual(expect.arrayContaining(['p%40w', 'p@w']))
    expect(passwordsOfUrl('postgres://db/x')).toEqual([])
  })

  it('keeps passwords out of store errors', () => {
    const error = toStoreError(new Error('connect to postgres:/app:hunter2@db failed'), 'postgres', [])
    expect(error).toBeInstanceOf(CacheError)
    expect(error.message).not.toContain('hunter2')
    expect(String((error as Error & { cause: Error }).cause.message)).not.toContain('hunter2')
  })
})
