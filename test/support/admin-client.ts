import { expect } from 'vitest'

/** A tiny browser for the handler: keeps the CSRF cookie and reads tokens from forms. */
export class Client {
  cookie = ''
  constructor(
    readonly handler: (request: Request) => Promise<Response>,
    readonly origin = 'http://admin.test',
    readonly auth = 'Bearer good',
  ) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; html: string }> {
    const res = await this.handler(
      new Request(this.origin + path, {
        headers: { authorization: this.auth, cookie: this.cookie, ...headers },
      }),
    )
    const set = res.headers.get('set-cookie')
    if (set) this.cookie = set.split(';')[0] as string
    return { res, html: await res.text() }
  }

  async post(
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ res: Response; html: string }> {
    const res = await this.handler(
      new Request(this.origin + path, {
        method: 'POST',
        headers: {
          authorization: this.auth,
          cookie: this.cookie,
          origin: this.origin,
          'content-type': 'application/x-www-form-urlencoded',
          ...headers,
        },
        body: new URLSearchParams(form).toString(),
      }),
    )
    return { res, html: await res.text() }
  }

  /** The CSRF token of the first form on a page. */
  static token(html: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(html)
    expect(match, 'a form with a CSRF token').not.toBeNull()
    return (match as RegExpExecArray)[1] as string
  }
}
