/**
 * The app over HTTP, as the end-to-end suites drive it: a cookie-keeping client that can move
 * between app processes, the admin page, the balance stream, `/ops/stats`, and a GET through one
 * public host name.
 */
import { type IncomingHttpHeaders, request } from 'node:http'

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Response>
  /** POST `body` as JSON, or as a form when it is `URLSearchParams`. */
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  /** GET and parse JSON, failing on a non-2xx status. */
  json<T = unknown>(path: string): Promise<T>
  /** The same browser (its cookies) on another app process, as behind a load balancer. */
  via(base: string): Client
  /** The `Cookie` header: every cookie the app set, by name. */
  cookie: string
}

/** A tiny browser: keeps the cookies (the session's and the admin page's) between requests. */
export function client(base: string, jar = new Map<string, string>()): Client {
  const keep = async (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
    }
    // Like a browser, take the whole response before the next request: express-session saves a
    // session while the last byte is held back, so the headers alone do not mean it is stored.
    if (!response.headers.get('content-type')?.startsWith('text/event-stream'))
      await response.clone().arrayBuffer()
    return response
  }
  const c: Client = {
    get cookie() {
      return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    },
    set cookie(header: string) {
      jar.clear()
      for (const pair of header.split(';')) {
        const eq = pair.indexOf('=')
        if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
      }
    },
    async get(path, headers = {}) {
      return keep(await fetch(base + path, { headers: { cookie: c.cookie, ...headers }, redirect: 'manual' }))
    },
    async post(path, body = {}, headers = {}) {
      const form = body instanceof URLSearchParams
      return keep(
        await fetch(base + path, {
          method: 'POST',
          headers: {
            cookie: c.cookie,
            'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
            ...headers,
          },
          body: form ? body.toString() : JSON.stringify(body),
          redirect: 'manual',
        }),
      )
    },
    async json<T>(path: string): Promise<T> {
      const response = await c.get(path)
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
      return (await response.json()) as T
    },
    via: (other) => client(other, jar),
  }
  return c
}

/** A client logged in as `username` (every demo user's password is `demo`). */
export async function login(base: string, username = 'demo'): Promise<Client> {
  const c = client(base)
  const response = await c.post('/api/login', { username, password: 'demo' })
  if (response.status !== 200)
    throw new Error(`login as ${username}: ${response.status} ${await response.text()}`)
  return c
}

/** Records an expense of `amount` cents on `accountId` as `c` (category 25: a leaf of the demo user's tree). */
export function addExpense(c: Client, accountId: number, amount: number): Promise<Response> {
  return c.post('/api/transactions', { accountId, categoryId: 25, type: 'expense', amount })
}

/**
 * A GET carrying the Host header a load balancer passes to every process (fetch always sends the
 * URL's own): the response cache keys pages by host, as Django's `cache_page` does.
 */
export function getViaBalancer(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    request({ hostname, port, path, headers: { host: 'finance.example', ...headers } }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      response.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

/** `/ops/stats` of the app at `base` (loopback only): its database queries and cache hits so far. */
export async function opsStats(base: string): Promise<{ dbQueries: number; cache: { hits: number } }> {
  return client(base).json('/ops/stats')
}

export interface BalanceEvent {
  readonly accounts: { id: number; balance: number }[]
  readonly reason: string
}

/** Opens `/events/balances` as `c` and collects its events until `close()`. */
export async function openEvents(c: Client) {
  const controller = new AbortController()
  const response = await c.get('/events/balances', { accept: 'text/event-stream' })
  if (response.status !== 200)
    throw new Error(`GET /events/balances: ${response.status} ${await response.text()}`)
  const events: BalanceEvent[] = []
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}))
  const decoder = new TextDecoder()
  let buffer = ''
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n')
          if (data) events.push(JSON.parse(data))
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {}
  })()
  return { response, events, close: () => controller.abort() }
}

/** A key of a cache as the admin page shows it. */
export interface AdminKey {
  /** The key in the store, with prefix and version. */
  readonly fullKey: string
  /** As the page writes it: `60 min`, `10 min`, `never expires`. */
  readonly ttl: string
  readonly value: string
}

const unescapeHtml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')

/** The admin page (`/admin/cache`) used by a signed-in staff member `staff`, as in a browser. */
export function adminPage(staff: Client) {
  const page = async (path: string) => {
    const response = await staff.get(`/admin/cache${path}`)
    const html = await response.text()
    if (!response.ok) throw new Error(`GET /admin/cache${path}: ${response.status} ${html}`)
    return html
  }
  /** POSTs the first form of `html` that carries `fields`, with its CSRF token. */
  const submit = async (html: string, action: string, fields: Record<string, string>) => {
    const token = html.match(/name="_csrf" value="([^"]+)"/)?.[1]
    if (!token) throw new Error(`no CSRF token on the admin page before ${action}`)
    const response = await staff.post(
      `/admin/cache${action}`,
      new URLSearchParams({ ...fields, _csrf: token }),
    )
    const answer = await response.text()
    if (!response.ok) throw new Error(`POST /admin/cache${action}: ${response.status} ${answer}`)
    return answer
  }
  return {
    /** The key in the `cache` cache (`main` or `sessions`), or undefined when it is not there. */
    async key(key: string, cache = 'main'): Promise<AdminKey | undefined> {
      const html = await page(`/key?${new URLSearchParams({ cache, key })}`)
      const cell = (name: string) => html.match(new RegExp(`<th>${name}</th><td>(.*?)</td>`))?.[1]
      const fullKey = cell('In the store as')?.replace(/<\/?code>/g, '')
      if (fullKey === undefined) return undefined
      const value = html.match(/<pre id="value">([\s\S]*?)<\/pre>/)?.[1] ?? ''
      return { fullKey: unescapeHtml(fullKey), ttl: cell('TTL') ?? '', value: unescapeHtml(value) }
    },
    /** Clears the keys matching `pattern`: the count page, then its confirmed form. How many went. */
    async clear(pattern: string, cache = 'main'): Promise<number> {
      const confirm = await page(`/clear?${new URLSearchParams({ cache, pattern })}`)
      const done = await submit(confirm, '/clear', { cache, pattern, confirm: 'yes' })
      return Number(done.match(/data-deleted="(\d+)"/)?.[1] ?? Number.NaN)
    },
    /** The login guard's lockout log, newest first. */
    async lockoutLog(): Promise<{ kind: string; username: string; by: string }[]> {
      const html = await page('/protection')
      return [
        ...html.matchAll(
          /<tr><td>[^<]*<\/td><td>([^<]*)<\/td><td class="key">([^<]*)<\/td><td class="key">[^<]*<\/td><td class="opt">([^<]*)<\/td><\/tr>/g,
        ),
      ].map(([, kind = '', username = '', why = '']) => ({
        kind,
        username: unescapeHtml(username),
        by: why.match(/\(([^)]*)\)$/)?.[1] ?? '',
      }))
    },
    /** Lifts the lockout of `username` (from every address). */
    async unlock(username: string): Promise<void> {
      await submit(await page('/protection'), '/unlock', { guard: 'login', username, mode: 'unlock' })
    },
  }
}
