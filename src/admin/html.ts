/**
 * HTML building blocks of the admin page. Every piece of text that reaches the page goes through
 * {@link esc} (or {@link attr}): key names, values, cache names, error messages, query strings.
 * Nothing is trusted because it came from the app: a cache key is whatever a user could make the
 * app write, `<script>` included.
 */

import { scaleBytes } from '../internal/index.js'

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
}

/** Text escaped for an element's content or a quoted attribute. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c)
}

/** A link to an admin route with query parameters, escaped for an `href`. */
export function href(base: string, route: string, query: Record<string, string | number | undefined> = {}) {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value))
  const search = params.toString()
  return esc(`${base}${route}${search ? `?${search}` : ''}`)
}

/** A number with thousands separators (fixed locale, so pages and tests agree). */
export function num(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '—'
  const [value, power] = scaleBytes(n)
  return power === 0 ? `${value} B` : `${value.toFixed(1)} ${['B', 'KiB', 'MiB', 'GiB', 'TiB'][power]}`
}

export function duration(ms: number | null | undefined): string {
  if (ms === undefined) return 'missing'
  if (ms === null) return 'never expires'
  if (ms < 1000) return `${ms} ms`
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 120) return `${m} min`
  const h = Math.round(m / 60)
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`
}

/** What every page needs to render: where the admin lives and this response's CSP nonce. */
export interface PageContext {
  readonly base: string
  readonly nonce: string
  readonly csrf: string
  readonly title: string
}

/** A hidden CSRF field for a form. */
export function csrfField(page: PageContext): string {
  return `<input type="hidden" name="_csrf" value="${esc(page.csrf)}">`
}

/** The whole document: header with navigation, the page's main content, the style and script. */
export function layout(page: PageContext, current: string, heading: string, main: string): string {
  const nav = [
    ['/', 'Overview'],
    ['/keys', 'Keys'],
    ['/protection', 'Protection'],
  ]
    .map(
      ([route, label]) =>
        `<a href="${href(page.base, route as string)}"${route === current ? ' aria-current="page"' : ''}>${label}</a>`,
    )
    .join('')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(heading)} · ${esc(page.title)}</title>
<style nonce="${esc(page.nonce)}">${STYLE}</style>
</head>
<body>
<header><strong>${esc(page.title)}</strong><nav>${nav}</nav></header>
<main id="main" data-page="${esc(current)}">
<h1>${esc(heading)}</h1>
${main}
</main>
<script nonce="${esc(page.nonce)}">${SCRIPT}</script>
</body>
</html>`
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;background:#f5f6f8}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;background:#1f2a37;color:#fff}
header nav{display:flex;gap:.25rem;flex-wrap:wrap}
header a{color:#d6e2f0;text-decoration:none;padding:.3rem .6rem;border-radius:4px}
header a[aria-current]{background:#3b4b5e;color:#fff}
main{padding:1rem;max-width:72rem;margin:0 auto}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
section.card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem;overflow-x:auto}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.5rem;margin:.5rem 0}
dl.figures div{background:#f0f3f7;border-radius:4px;padding:.4rem .6rem}
dl.figures dt{font-size:.75rem;color:#5a6675;text-transform:uppercase;letter-spacing:.03em}
dl.figures dd{margin:0;font-size:1.1rem;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{font-size:.8rem;color:#5a6675}
td.key,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-all}
pre{white-space:pre-wrap;background:#f0f3f7;padding:.6rem;border-radius:4px;max-height:32rem;overflow:auto}
form.inline{display:inline}
form.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}
label{display:flex;flex-direction:column;font-size:.8rem;color:#5a6675;gap:.15rem}
input,select,button{font:inherit;padding:.35rem .5rem;border:1px solid #b9c2cd;border-radius:4px;background:#fff;min-width:0}
button{background:#2d5b8a;color:#fff;border-color:#2d5b8a;cursor:pointer}
button.danger{background:#a3322b;border-color:#a3322b}
.notice{background:#e7f4ea;border:1px solid #9fd0ab;padding:.5rem .8rem;border-radius:4px}
.warning{background:#fff4e0;border:1px solid #e8c07a;padding:.5rem .8rem;border-radius:4px}
.muted{color:#6b7684;font-size:.85rem}
svg.chart{width:100%;height:80px;background:#f8fafc;border:1px solid #e6e9ee;border-radius:4px}
svg.chart polyline{fill:none;stroke:#2d5b8a;stroke-width:2;vector-effect:non-scaling-stroke}
@media (max-width:40rem){main{padding:.6rem}th.opt,td.opt{display:none}}
`

/**
 * The progressive part: the overview refreshes itself in place while "live" is ticked (it fetches
 * the same page and swaps `<main>`), and destructive buttons ask once more. Without JavaScript
 * every page still works by links and forms.
 */
const SCRIPT = `
(function(){
  var main=document.getElementById('main');
  document.addEventListener('submit',function(e){
    var msg=e.target.getAttribute('data-confirm');
    if(msg&&!window.confirm(msg))e.preventDefault();
  });
  if(!main||main.getAttribute('data-page')!=='/')return;
  var box=document.getElementById('live');
  var timer=null;
  function tick(){
    fetch(location.href,{credentials:'same-origin',headers:{'accept':'text/html'}}).then(function(r){
      if(!r.ok)throw new Error(r.status);return r.text();
    }).then(function(text){
      var doc=new DOMParser().parseFromString(text,'text/html');
      var next=doc.getElementById('figures');var cur=document.getElementById('figures');
      if(next&&cur)cur.replaceWith(document.importNode(next,true));
    }).catch(function(){});
  }
  function set(){
    if(timer){clearInterval(timer);timer=null}
    if(box&&box.checked)timer=setInterval(tick,Number(box.getAttribute('data-interval'))||5000);
  }
  if(box)box.addEventListener('change',set);
  set();
})();
`
