/**
 * Header lists as the response cache keeps them: a flat array `[name, value, name, value, ...]`
 * with names in the case they were sent, so a replay writes the same bytes.
 */
export type HeaderList = readonly string[]

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those a replay computes itself: never stored. */
const NOT_STORED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'age',
  'cache-status',
  'x-cache',
  'set-cookie',
])

/** Headers a 304 carries (RFC 9110 §15.4.5), besides the cache's own. */
export const NOT_MODIFIED_HEADERS = new Set([
  'cache-control',
  'cdn-cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'last-modified',
  'vary',
])

/** The first value of a header (names compared case-insensitively), or undefined. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === name) return headers[i + 1]
  }
  return undefined
}

/** Every value of a header, joined with `, ` (Set-Cookie excepted: never joined, only tested). */
export function headerValues(headers: HeaderList, name: string): string | undefined {
  let joined: string | undefined
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === name) {
      joined = joined === undefined ? (headers[i + 1] as string) : `${joined}, ${headers[i + 1]}`
    }
  }
  return joined
}

/** The headers worth storing: no hop-by-hop header, none named by `Connection`, no cookie. */
export function storable(headers: HeaderList): string[] {
  const connection = headerValues(headers, 'connection')
  const named = connection ? new Set(connection.split(',').map((t) => t.trim().toLowerCase())) : undefined
  const kept: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const lower = (headers[i] as string).toLowerCase()
    if (NOT_STORED.has(lower) || named?.has(lower)) continue
    kept.push(headers[i] as string, headers[i + 1] as string)
  }
  return kept
}

/** Flattens Node-style headers (`getHeaders()`, values string | number | string[]) into a {@link HeaderList}. */
export function fromRecord(record: Readonly<Record<string, unknown>>, names?: readonly string[]): string[] {
  const list: string[] = []
  for (const name of names ?? Object.keys(record)) {
    const value = record[name.toLowerCase()] ?? record[name]
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const v of value) list.push(name, String(v))
    else list.push(name, String(value))
  }
  return list
}

/** Groups a {@link HeaderList} by name for `setHeader` (repeated names become arrays). */
export function grouped(headers: HeaderList): Array<[string, string | string[]]> {
  const out: Array<[string, string | string[]]> = []
  const at = new Map<string, number>()
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string
    const value = headers[i + 1] as string
    const lower = name.toLowerCase()
    const index = at.get(lower)
    if (index === undefined) {
      at.set(lower, out.length)
      out.push([name, value])
    } else {
      const entry = out[index] as [string, string | string[]]
      entry[1] = Array.isArray(entry[1]) ? [...entry[1], value] : [entry[1], value]
    }
  }
  return out
}

/** Parses `Cache-Control` into lowercase directive names (values dropped: only names matter here). */
export function directives(value: string | undefined): Set<string> {
  const set = new Set<string>()
  if (!value) return set
  for (const part of value.split(',')) {
    const name = part.split('=')[0]?.trim().toLowerCase()
    if (name) set.add(name)
  }
  return set
}

/** The header names of a `Vary` value, lowercased (`*` kept). */
export function varyNames(value: string | undefined): string[] {
  if (!value) return []
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean)
}
