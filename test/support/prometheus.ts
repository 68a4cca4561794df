import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { metricsHandler } from '../../src/observe/prometheus/index.js'

/** One sample of a scrape: name, labels and value. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Serves `registry` on `/metrics` over real HTTP, as an app would. */
export async function serveMetrics(registry: Registry): Promise<{ url: string; close(): Promise<void> }> {
  const handler = metricsHandler(registry)
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') handler(req, res)
    else {
      res.statusCode = 404
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Fetches a scrape and parses the text format (enough of it for these tests). */
export async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(url)
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}`)
  if (!/^text\/plain/.test(res.headers.get('content-type') ?? '')) throw new Error('not the text format')
  const text = await res.text()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`unparsable line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return { text, samples }
}

/** The sum of the samples of `name` whose labels include `where`. */
export function total(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

export function series(samples: readonly Sample[], name: string): Sample[] {
  return samples.filter((s) => s.name === name)
}
