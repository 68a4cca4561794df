import type { LockoutLogEntry, RateLimitResult } from '../ratelimit/index.js'
import { csrfField, duration, esc, href, layout, type PageContext } from './html.js'
import type { ResolvedAdminOptions } from './options.js'

export interface ProtectionView {
  readonly notice?: string
  /** A limiter key looked up with `peek` (spends nothing). */
  readonly peeked?: {
    readonly limiter: string
    readonly scope: string
    readonly key: string
    readonly result: RateLimitResult
  }
  readonly logs: ReadonlyMap<string, readonly LockoutLogEntry[] | string>
}

export function protectionPage(
  page: PageContext,
  options: ResolvedAdminOptions,
  view: ProtectionView,
): string {
  const parts: string[] = []
  if (view.notice) parts.push(`<p class="notice" role="status">${esc(view.notice)}</p>`)
  if (options.limiters.size === 0 && options.guards.size === 0) {
    parts.push('<p class="muted">No rate limiters or login guards were given to the admin page.</p>')
  }
  for (const [name, limiter] of options.limiters) {
    const scopes = limiter.scopes.map((s) => `<option value="${esc(s)}">${esc(s)}</option>`).join('')
    const fields = `<input type="hidden" name="limiter" value="${esc(name)}"><label>Scope<select name="scope">${scopes}</select></label><label>Key<input name="key" required autocomplete="off" spellcheck="false" placeholder="ip or user id"></label>`
    let peeked = ''
    if (view.peeked?.limiter === name) {
      const { result, scope, key } = view.peeked
      peeked = `<p class="${result.allowed ? 'notice' : 'warning'}" data-peek>${esc(scope)} / <code>${esc(key)}</code>: ${
        result.allowed
          ? `allowed, ${result.remaining} of ${result.limit} left`
          : `blocked for ${esc(duration(result.retryAfterMs))}`
      }</p>`
    }
    parts.push(`<section class="card" data-limiter="${esc(name)}"><h2>Rate limiter ${esc(name)}</h2>
${peeked}
<form class="row" method="get" action="${href(page.base, '/protection')}">${fields}<button type="submit">Look up</button></form>
<form class="row" method="post" action="${href(page.base, '/unblock')}" data-confirm="Reset this key's counters?">${csrfField(page)}${fields}<button class="danger" type="submit">Unblock</button></form>
</section>`)
  }
  for (const [name] of options.guards) {
    const log = view.logs.get(name)
    const rows =
      typeof log === 'string'
        ? `<p class="warning">${esc(log)}</p>`
        : !log || log.length === 0
          ? '<p class="muted">No lockouts logged.</p>'
          : `<table><thead><tr><th>When</th><th>What</th><th>User</th><th>IP</th><th class="opt">Why</th></tr></thead><tbody>${log
              .map(
                (e) =>
                  `<tr><td>${esc(new Date(e.at).toISOString().replace('T', ' ').slice(0, 19))}</td><td>${esc(e.kind)}</td><td class="key">${esc(e.username ?? '')}</td><td class="key">${esc(e.ip ?? '')}</td><td class="opt">${esc(e.reason)}${e.by ? ` (${esc(e.by)})` : ''}</td></tr>`,
              )
              .join('')}</tbody></table>`
    parts.push(`<section class="card" data-guard="${esc(name)}"><h2>Login guard ${esc(name)}</h2>
<form class="row" method="post" action="${href(page.base, '/unlock')}" data-confirm="Lift this lockout?">${csrfField(page)}
<input type="hidden" name="guard" value="${esc(name)}">
<label>Username<input name="username" autocomplete="off" spellcheck="false"></label>
<label>IP<input name="ip" autocomplete="off" spellcheck="false"></label>
<label>Mode<select name="mode"><option value="unlock">Unlock (keep failures)</option><option value="reset">Reset (forget failures)</option></select></label>
<button class="danger" type="submit">Unlock</button></form>
<h3>Lockout log</h3>${rows}</section>`)
  }
  return layout(page, '/protection', 'Protection', parts.join('\n'))
}
