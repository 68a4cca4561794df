import type { Cache } from '../cache/index.js'
import { bytes, csrfField, duration, esc, href, layout, num, type PageContext } from './html.js'
import type { KeyDetail, KeyFacts } from './preview.js'
import type { KeyPage } from './search.js'

/** The search form: cache, pattern, page size. */
function searchForm(page: PageContext, caches: readonly string[], cache: string, pattern: string): string {
  const options = caches
    .map((name) => `<option value="${esc(name)}"${name === cache ? ' selected' : ''}>${esc(name)}</option>`)
    .join('')
  return `<form class="row" method="get" action="${href(page.base, '/keys')}">
<label>Cache<select name="cache">${options}</select></label>
<label>Pattern<input name="pattern" value="${esc(pattern)}" placeholder="user:*" autocomplete="off" spellcheck="false"></label>
<button type="submit">Search</button>
</form>`
}

export interface KeysView {
  readonly caches: readonly string[]
  readonly cache: string
  readonly pattern: string
  readonly result: KeyPage | 'expired' | undefined
  readonly facts: ReadonlyMap<string, KeyFacts>
  readonly notice?: string
}

export function keysPage(page: PageContext, view: KeysView): string {
  const { cache, pattern, result } = view
  const parts = [searchForm(page, view.caches, cache, pattern)]
  if (view.notice) parts.push(`<p class="notice" role="status">${esc(view.notice)}</p>`)
  if (result === 'expired') {
    parts.push(
      `<p class="warning">This search has expired (searches are kept 10 minutes). <a href="${href(page.base, '/keys', { cache, pattern })}">Start it again</a>.</p>`,
    )
  } else if (result !== undefined) {
    const rows = result.keys
      .map(
        (
          key,
        ) => `<tr><td class="key"><a href="${href(page.base, '/key', { cache, key })}">${esc(key)}</a></td>
<td>${esc(duration(view.facts.get(key)?.ttl))}</td><td class="opt">${esc(view.facts.get(key)?.type ?? '—')}</td><td class="opt">${esc(bytes(view.facts.get(key)?.size))}</td>
<td><form class="inline" method="post" action="${href(page.base, '/delete')}" data-confirm="Delete this key?">${csrfField(page)}<input type="hidden" name="cache" value="${esc(cache)}"><input type="hidden" name="key" value="${esc(key)}"><input type="hidden" name="pattern" value="${esc(pattern)}"><button class="danger" type="submit">Delete</button></form></td></tr>`,
      )
      .join('')
    const from = result.offset + 1
    const to = result.offset + result.keys.length
    parts.push(
      `<p class="muted" data-shown="${result.keys.length}">${
        result.keys.length === 0
          ? 'No keys match.'
          : `Keys ${num(from)}–${num(to)} matching <code>${esc(pattern)}</code> in ${esc(cache)} (SCAN order)`
      }</p>`,
    )
    if (result.keys.length > 0) {
      parts.push(
        `<table class="keys"><thead><tr><th>Key</th><th>TTL</th><th class="opt">Type</th><th class="opt">Size</th><th></th></tr></thead><tbody>${rows}</tbody></table>`,
      )
    }
    const next = result.cursor
      ? `<a href="${href(page.base, '/keys', { cache, pattern, cursor: result.cursor })}" rel="next">Next page</a> · `
      : ''
    parts.push(
      `<p>${next}<a href="${href(page.base, '/clear', { cache, pattern })}">Clear all keys matching this pattern…</a></p>`,
    )
  }
  return layout(page, '/keys', 'Keys', parts.join('\n'))
}

export function keyPage(page: PageContext, cacheName: string, cache: Cache, detail: KeyDetail): string {
  const back = `<p><a href="${href(page.base, '/keys', { cache: cacheName, pattern: '*' })}">Back to the keys of ${esc(cacheName)}</a></p>`
  if (!detail.exists) {
    return layout(
      page,
      '/keys',
      'Key',
      `<p class="warning">No key <code>${esc(detail.key)}</code> in ${esc(cacheName)} (it may have expired).</p>${back}`,
    )
  }
  const rows: [string, string][] = [
    ['Key', `<code>${esc(detail.key)}</code>`],
    ['In the store as', `<code>${esc(detail.fullKey)}</code>`],
    ['Store', esc(cache.store.name)],
    ['Type', esc(detail.type)],
    ['TTL', esc(duration(detail.ttl))],
    [
      'Size',
      detail.size === undefined
        ? '—'
        : `${esc(bytes(detail.size))} <span class="muted">${esc(detail.sizeNote)}</span>`,
    ],
    [
      'Tags',
      detail.tags && detail.tags.length > 0
        ? detail.tags.map((t) => `<code>${esc(t)}</code>`).join(' ')
        : '<span class="muted">none known</span>',
    ],
  ]
  if (detail.stale)
    rows.push([
      'State',
      'stale (inside its grace period: a miss for get, served by getOrSet while it refreshes)',
    ])
  const table = `<table class="detail"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>`
  const value = detail.problem
    ? `<p class="warning">${esc(detail.problem)}</p>`
    : `<h2>Value</h2><pre id="value">${esc(detail.preview)}</pre>`
  const remove = `<form method="post" action="${href(page.base, '/delete')}" data-confirm="Delete this key?">${csrfField(page)}<input type="hidden" name="cache" value="${esc(cacheName)}"><input type="hidden" name="key" value="${esc(detail.key)}"><button class="danger" type="submit">Delete this key</button></form>`
  return layout(page, '/keys', 'Key', `<section class="card">${table}</section>${value}${remove}${back}`)
}

export function clearConfirmPage(
  page: PageContext,
  cacheName: string,
  pattern: string,
  count: number,
  capped: boolean,
): string {
  const counted = `${capped ? 'At least ' : ''}${num(count)}`
  const body =
    count === 0
      ? `<p class="notice">No keys in ${esc(cacheName)} match <code>${esc(pattern)}</code>: nothing to clear.</p>`
      : `<p class="warning" data-count="${count}"><strong>${counted}</strong> key${count === 1 ? '' : 's'} in ${esc(cacheName)} match <code>${esc(pattern)}</code>. Deleting them cannot be undone.</p>
<form method="post" action="${href(page.base, '/clear')}">${csrfField(page)}
<input type="hidden" name="cache" value="${esc(cacheName)}"><input type="hidden" name="pattern" value="${esc(pattern)}"><input type="hidden" name="confirm" value="yes">
<button class="danger" type="submit">Delete ${counted} key${count === 1 ? '' : 's'}</button></form>`
  return layout(
    page,
    '/keys',
    'Clear by pattern',
    `${body}<p><a href="${href(page.base, '/keys', { cache: cacheName, pattern })}">Cancel</a></p>`,
  )
}

export function clearedPage(page: PageContext, cacheName: string, pattern: string, deleted: number): string {
  return layout(
    page,
    '/keys',
    'Clear by pattern',
    `<p class="notice" role="status" data-deleted="${deleted}">Deleted ${num(deleted)} key${deleted === 1 ? '' : 's'} matching <code>${esc(pattern)}</code> in ${esc(cacheName)}.</p>
<p><a href="${href(page.base, '/keys', { cache: cacheName, pattern })}">Search again</a></p>`,
  )
}
