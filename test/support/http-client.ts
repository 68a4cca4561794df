import http from 'node:http'

export interface Answer {
  readonly status: number
  readonly body: string
  /** Raw header lines as received: name case and order kept. */
  readonly raw: string[]
  header(name: string): string | undefined
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })

/** A GET over node:http (so `Host` can be set and raw headers read). */
export function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const raw = res.rawHeaders
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          raw,
          header: (name) => {
            const v = res.headers[name.toLowerCase()]
            return Array.isArray(v) ? v.join(', ') : v
          },
        })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Header lines (name: value) minus those that legitimately differ between a miss and a hit. */
export function comparable(raw: readonly string[]): string[] {
  const skip = new Set([
    'date',
    'age',
    'cache-status',
    'x-cache',
    'connection',
    'keep-alive',
    'transfer-encoding',
    'content-length',
  ])
  const lines: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    if (!skip.has((raw[i] as string).toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`)
  }
  return lines
}
