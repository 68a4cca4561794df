/** Server-rendered HTML: every value goes through {@link html}'s escaping; `raw` marks trusted markup. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Markup that is already safe (built by {@link html}). */
export class Raw {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

export const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)

/** Tagged template: interpolated values are escaped unless they are {@link Raw} (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    const parts = Array.isArray(value) ? value : [value]
    for (const part of parts) out += part instanceof Raw ? part.value : part == null ? '' : escapeHtml(part)
    out += strings[i + 1] ?? ''
  })
  return new Raw(out)
}

export const money = (cents: number, currency = ''): string =>
  `${(cents / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}${currency ? ` ${currency}` : ''}`

export interface PageUser {
  username: string
  role: string
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none}header form{margin-left:auto}main{max-width:980px;margin:1.2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:.35rem .6rem;border-bottom:1px solid #e3e6ea;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.card{background:#fff;border-radius:8px;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0001}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:1rem}.err{color:#b00020}.note{color:#666;font-size:13px}
input,select,button{font:inherit;padding:.3rem .5rem}button{cursor:pointer}ul.tree{margin:.2rem 0;padding-left:1.1rem}`

/** The page frame: navigation for a signed-in user, the body, and an optional script. */
export function layout(title: string, user: PageUser | undefined, body: Raw, script = ''): string {
  const nav = user
    ? html`<a href="/">Dashboard</a><a href="/accounts">Accounts</a><a href="/transactions">Transactions</a>
<a href="/statistics">Statistics</a><a href="/reports/monthly?format=csv">Report (CSV)</a><a href="/merchants">Merchants</a>${user.role === 'staff' ? html`<a href="/admin/cache">Cache admin</a>` : ''}
<form method="post" action="/logout"><span>${user.username} (${user.role})</span> <button>Log out</button></form>`
    : html`<a href="/login">Log in</a><a href="/public/merchants">Merchants</a>`
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · cachekit finance</title><style>${STYLE}</style></head>
<body><header><strong>cachekit finance</strong>${nav.value}</header><main>${body.value}</main>${script ? `<script>${script}</script>` : ''}</body></html>`
}
