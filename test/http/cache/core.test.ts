import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/cache/create.js'
import { fragment, fragmentKey, responseCache } from '../../../src/http/cache/index.js'
import { memoryStore } from '../../../src/stores/memory/index.js'

function site(options: Partial<Parameters<typeof responseCache>[0]> = {}) {
  const cache = createCache({ store: memoryStore(), prefix: 'core' })
  const pages = responseCache({ cache, ttl: '1m', ...options })
  const runs: string[] = []
  const next = (request: Request) => {
    const url = new URL(request.url)
    runs.push(url.pathname + url.search)
    return new Response(`body of ${url.pathname}${url.search} #${runs.length}`, {
      headers: {
        'content-type': 'text/plain',
        'x-if-none-match-seen': String(request.headers.has('if-none-match')),
      },
    })
  }
  const fetch = async (url: string, init?: RequestInit) => {
    const res = await pages.handle(new Request(`http://site.test${url}`, init), next)
    return { res, text: await res.text() }
  }
  return { cache, pages, runs, fetch }
}

describe('response cache core', () => {
  it('normalises the query: sorted parameters, ignored ones dropped', async () => {
    const { fetch, runs } = site({ ignoreQuery: ['utm_source'] })
    await fetch('/q?b=2&a=1&utm_source=mail')
    const again = await fetch('/q?a=1&b=2')
    expect(again.res.headers.get('x-cache')).toBe('HIT')
    await fetch('/q?a=1&b=3')
    expect(runs).toHaveLength(2)
  })

  it('invalidates by path prefix and by tag', async () => {
    const { fetch, pages, runs } = site({
      tags: (req) => (req.url.startsWith('/articles/7') ? ['article:7'] : []),
    })
    await fetch('/articles/7')
    await fetch('/articles/8')
    await fetch('/about')
    expect(await pages.invalidate('article:7')).toBe(1)
    expect((await fetch('/articles/8')).res.headers.get('x-cache')).toBe('HIT')
    expect((await fetch('/articles/7')).res.headers.get('x-cache')).toBe('MISS')
    expect(await pages.invalidatePath('/articles/')).toBe(2)
    expect((await fetch('/about')).res.headers.get('x-cache')).toBe('HIT')
    expect((await fetch('/articles/8')).res.headers.get('x-cache')).toBe('MISS')
    expect(runs.filter((r) => r === '/articles/8')).toHaveLength(2)
  })

  it('keeps the server TTL apart from Cache-Control and CDN-Cache-Control sent to clients', async () => {
    const { fetch } = site({ cacheControl: 'no-cache', cdnCacheControl: 'max-age=30' })
    const miss = await fetch('/cc')
    const hit = await fetch('/cc')
    for (const { res } of [miss, hit]) {
      expect(res.headers.get('cache-control')).toBe('no-cache')
      expect(res.headers.get('cdn-cache-control')).toBe('max-age=30')
    }
    expect(hit.res.headers.get('x-cache')).toBe('HIT')
  })

  it('the handler never sees validators on a fill; HEAD misses are not stored', async () => {
    const { fetch, runs } = site()
    const first = await fetch('/v', { headers: { 'if-none-match': '"x"' } })
    expect(first.res.headers.get('x-if-none-match-seen')).toBe('false')
    const head = await fetch('/h', { method: 'HEAD' })
    expect(head.res.headers.get('x-cache')).toBe('MISS')
    expect((await fetch('/h')).res.headers.get('x-cache')).toBe('MISS')
    expect((await fetch('/h', { method: 'HEAD' })).res.headers.get('x-cache')).toBe('HIT')
    expect(runs).toEqual(['/v', '/h', '/h'])
  })

  it('honours a request no-cache only when configured to', async () => {
    const off = site()
    await off.fetch('/n')
    expect(
      (await off.fetch('/n', { headers: { 'cache-control': 'no-cache' } })).res.headers.get('x-cache'),
    ).toBe('HIT')
    const on = site({ honorNoCache: true })
    await on.fetch('/n')
    const forced = await on.fetch('/n', { headers: { 'cache-control': 'no-cache' } })
    expect(forced.res.headers.get('cache-status')).toBe('cachekit; fwd=request')
    expect(forced.text).toContain('#2')
    expect((await on.fetch('/n')).text).toContain('#2')
    const noStore = await on.fetch('/n', { headers: { 'cache-control': 'no-store' } })
    expect(noStore.res.headers.get('cache-status')).toBe('cachekit; fwd=bypass; detail=request-no-store')
  })

  it('replays binary bodies byte for byte', async () => {
    const cache = createCache({ store: memoryStore() })
    const pages = responseCache({ cache, ttl: '1m' })
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256)
    const next = () => new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } })
    const miss = new Uint8Array(await (await pages.handle(new Request('http://x/bin'), next)).arrayBuffer())
    const hit = await pages.handle(new Request('http://x/bin'), next)
    expect(hit.headers.get('x-cache')).toBe('HIT')
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(bytes)
    expect(miss).toEqual(bytes)
  })

  it('methods other than GET and HEAD bypass', async () => {
    const { fetch } = site()
    const post = await fetch('/p', { method: 'POST', body: 'x' })
    expect(post.res.headers.get('cache-status')).toBe('cachekit; fwd=bypass; detail=method')
  })

  it('fragment: a named piece of HTML cached with its vary-on values', async () => {
    const cache = createCache({ store: memoryStore() })
    let renders = 0
    const render = (user: string) => () => `<aside>${user} ${++renders}</aside>`
    expect(await fragment(cache, 'sidebar', ['ann'], render('ann'), { ttl: '500s' })).toBe(
      '<aside>ann 1</aside>',
    )
    expect(await fragment(cache, 'sidebar', ['ann'], render('ann'))).toBe('<aside>ann 1</aside>')
    expect(await fragment(cache, 'sidebar', ['bob'], render('bob'))).toBe('<aside>bob 2</aside>')
    expect(fragmentKey('sidebar', [1])).not.toBe(fragmentKey('sidebar', ['1']))
    await cache.delete(fragmentKey('sidebar', ['ann']))
    expect(await fragment(cache, 'sidebar', ['ann'], render('ann'))).toBe('<aside>ann 3</aside>')
  })

  it('rejects options that cannot work with a typed error', () => {
    const cache = createCache({ store: memoryStore() })
    expect(() => responseCache({ cache, ttl: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
    expect(() => responseCache({ cache, ttl: '1m', maxBodyBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
  })

  it('keeps requests apart that differ only in Host, in a Vary header or in the query, once their keys are remembered', async () => {
    const { fetch, runs } = site({ vary: ['accept-language'] })
    for (let round = 0; round < 3; round++) {
      for (const host of ['a.test', 'b.test']) {
        for (const lang of ['fr', 'en']) {
          await fetch('/k?x=1&y=2', { headers: { host, 'accept-language': lang } })
          await fetch('/k?y=2&x=1', { headers: { host, 'accept-language': lang } })
        }
      }
      await fetch('/k?x=2&y=2')
    }
    // 4 host × language variants (the two query orders share one) and one other query.
    expect(runs).toHaveLength(5)
    const hit = await fetch('/k?y=2&x=1', { headers: { host: 'b.test', 'accept-language': 'en' } })
    expect(hit.res.headers.get('x-cache')).toBe('HIT')
    expect(hit.text).toBe('body of /k?x=1&y=2 #4')
  })
})
