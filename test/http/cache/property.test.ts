import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/cache/create.js'
import { responseCache } from '../../../src/http/cache/index.js'
import { memoryStore } from '../../../src/stores/memory/index.js'

/**
 * The documented rules, written once more independently of the engine: a response is stored (and
 * the next identical request is a hit) only if all of these hold.
 */
function allowed(
  req: Record<string, string>,
  status: number,
  res: Record<string, string>,
  size: number,
  max: number,
) {
  if (req['range'] !== undefined) return false
  if (req['authorization'] !== undefined) return false
  if (req['cookie'] !== undefined && /(^|;\s*)[^=;]*(sess|sid|auth|token)[^=;]*=/i.test(req['cookie']))
    return false
  if (![200, 203, 204, 300, 301, 308, 404, 410].includes(status)) return false
  if (res['set-cookie'] !== undefined) return false
  const cc = (res['cache-control'] ?? '').toLowerCase()
  if (/(^|,)\s*(no-store|private|no-cache)\s*(=|,|$)/.test(cc)) return false
  if ((res['vary'] ?? '').split(',').some((v) => v.trim() === '*')) return false
  if ((res['content-type'] ?? '').startsWith('text/event-stream')) return false
  if (size > max) return false
  return true
}

const requestHeaders = fc.record(
  {
    authorization: fc.constant('Bearer t0k3n'),
    cookie: fc.constantFrom(
      'theme=dark',
      'connect.sid=s%3Aabc',
      'theme=dark; sessionid=1',
      'lang=fr',
      'auth_token=x',
    ),
    range: fc.constant('bytes=0-10'),
    'accept-language': fc.constantFrom('fr', 'de', 'en'),
  },
  { requiredKeys: [] },
)
const responseHeaders = fc.record(
  {
    'set-cookie': fc.constantFrom('a=b', 'sid=1; HttpOnly'),
    'cache-control': fc.constantFrom(
      'public, max-age=60',
      'private',
      'no-store',
      'no-cache',
      'max-age=0',
      's-maxage=10, public',
      'private, max-age=5',
    ),
    vary: fc.constantFrom('Accept-Language', '*', 'Accept-Encoding, Accept-Language', 'Origin'),
    'content-type': fc.constantFrom('text/html', 'application/json', 'text/event-stream'),
    'x-app': fc.constant('1'),
  },
  { requiredKeys: [] },
)

describe('response cache rules (property)', () => {
  it('a response is stored iff the documented rules allow it', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'prop' })
    const max = 64
    const pages = responseCache({ cache, ttl: '1m', maxBodyBytes: max })
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        requestHeaders,
        fc.constantFrom(200, 201, 204, 206, 301, 302, 404, 410, 500, 503),
        responseHeaders,
        fc.integer({ min: 0, max: 100 }),
        async (req, status, res, size) => {
          const url = `http://site.test/p/${n++}?b=2&a=1`
          let runs = 0
          const next = () => {
            runs++
            const headers = new Headers()
            for (const [k, v] of Object.entries(res)) headers.append(k, v)
            const body = status === 204 ? null : 'x'.repeat(size)
            return new Response(body, { status, headers })
          }
          const first = await pages.handle(new Request(url, { headers: req }), next)
          await first.arrayBuffer()
          const second = await pages.handle(new Request(url, { headers: req }), next)
          await second.arrayBuffer()
          const stored = runs === 1
          const effectiveSize = status === 204 ? 0 : size
          expect(stored).toBe(allowed(req, status, res, effectiveSize, max))
          if (stored) {
            expect(second.headers.get('x-cache')).toBe('HIT')
            expect(second.headers.get('set-cookie')).toBeNull()
          } else {
            expect(second.headers.get('cache-status')).toMatch(/fwd=bypass; detail=[a-z-]+$/)
          }
        },
      ),
      { numRuns: 400 },
    )
    await cache.close()
  })
})
