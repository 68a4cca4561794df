import { InvalidOptionError } from '../../errors.js'
import { percentDecode, redactUrl as redact } from '../../internal/index.js'

/**
 * Parses Redis connection URLs into a {@link RedisConnection}:
 *
 * - `redis://[user:pass@]host[:port][/db]` and `rediss://` (TLS); `valkey://`, `valkeys://` alike
 * - `redis+sentinel://[user:pass@]h1:26379,h2:26379/<master name>[/db]` (and `rediss+sentinel://`)
 * - `redis+cluster://[user:pass@]n1:6379,n2:6379` (and `rediss+cluster://`)
 *
 * Credentials are percent-decoded. An error names the part of the URL that is wrong and shows the
 * URL with its password replaced by `***`: passwords never reach a message or a log.
 */
export interface RedisEndpoint {
  readonly host: string
  readonly port: number
}

interface Common {
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly tls: boolean
}

/** A parsed Redis URL: standalone, Sentinel or Cluster, with its credentials and TLS setting. */
export type RedisConnection =
  | (Common & {
      readonly topology: 'standalone'
      readonly host: string
      readonly port: number
      readonly database: number
    })
  | (Common & {
      readonly topology: 'sentinel'
      readonly sentinels: readonly RedisEndpoint[]
      readonly masterName: string
      readonly database: number
    })
  | (Common & { readonly topology: 'cluster'; readonly nodes: readonly RedisEndpoint[] })

const SCHEMES: Record<string, { topology: RedisConnection['topology']; tls: boolean; port: number }> = {
  redis: { topology: 'standalone', tls: false, port: 6379 },
  rediss: { topology: 'standalone', tls: true, port: 6379 },
  valkey: { topology: 'standalone', tls: false, port: 6379 },
  valkeys: { topology: 'standalone', tls: true, port: 6379 },
  'redis+sentinel': { topology: 'sentinel', tls: false, port: 26379 },
  'rediss+sentinel': { topology: 'sentinel', tls: true, port: 26379 },
  'redis+cluster': { topology: 'cluster', tls: false, port: 6379 },
  'rediss+cluster': { topology: 'cluster', tls: true, port: 6379 },
}

/** Parses a `redis://`, `rediss://`, `redis+sentinel://` or `redis+cluster://` URL into a connection description. */
export function parseRedisUrl(url: string): RedisConnection {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new InvalidOptionError('redisStore url must be a non-empty string such as redis://localhost:6379')
  }
  const text = url.trim()
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(text)
  const fail = (what: string): never => {
    throw new InvalidOptionError(`Invalid Redis URL ${redactUrl(text)}: ${what}`)
  }
  if (!match) return fail('it must start with a scheme such as redis://')
  const scheme = (match[1] as string).toLowerCase()
  const kind = SCHEMES[scheme]
  if (!kind) {
    return fail(
      `the scheme "${scheme}://" is not supported; use one of ${Object.keys(SCHEMES)
        .map((s) => `${s}://`)
        .join(', ')}`,
    )
  }
  let rest = match[2] as string
  let username: string | undefined
  let password: string | undefined
  const at = rest.lastIndexOf('@')
  if (at !== -1) {
    const credentials = rest.slice(0, at)
    rest = rest.slice(at + 1)
    const colon = credentials.indexOf(':')
    const user = percentDecode(colon === -1 ? credentials : credentials.slice(0, colon))
    password = colon === -1 ? undefined : percentDecode(credentials.slice(colon + 1))
    if (user === undefined || (colon !== -1 && password === undefined)) {
      fail('the user name or password is not valid percent-encoding (encode @ : / % in them)')
    }
    username = user === '' ? undefined : user
  }
  const query = rest.indexOf('?')
  if (query !== -1) {
    const names = [...new URLSearchParams(rest.slice(query + 1)).keys()]
    if (names.length > 0) fail(`the URL parameter "${names[0]}" is not supported; pass options instead`)
    rest = rest.slice(0, query)
  }
  const slash = rest.indexOf('/')
  const hostPart = slash === -1 ? rest : rest.slice(0, slash)
  const path =
    slash === -1
      ? []
      : rest
          .slice(slash + 1)
          .split('/')
          .filter((s, i, all) => s !== '' || i < all.length - 1)
  if (hostPart === '') fail('the host is missing')
  const endpoints = hostPart.split(',').map((h) => parseEndpoint(h, kind.port, fail))
  const common = { username, password, tls: kind.tls }

  if (kind.topology === 'standalone') {
    if (endpoints.length > 1) {
      fail('it names several hosts; use redis+sentinel:// or redis+cluster:// for several nodes')
    }
    if (path.length > 1) fail(`the path "/${path.join('/')}" must be a database number such as /0`)
    const endpoint = endpoints[0] as RedisEndpoint
    return { topology: 'standalone', ...common, ...endpoint, database: parseDatabase(path[0], fail) }
  }
  if (kind.topology === 'sentinel') {
    const masterName = path[0]
    if (!masterName) fail('the master name is missing: redis+sentinel://h1:26379,h2:26379/mymaster')
    if (path.length > 2) fail(`the path "/${path.join('/')}" must be /<master name>[/<db>]`)
    return {
      topology: 'sentinel',
      ...common,
      sentinels: endpoints,
      masterName: decodeName(masterName as string, fail),
      database: parseDatabase(path[1], fail),
    }
  }
  if (path.length > 1 || (path[0] !== undefined && path[0] !== '0')) {
    fail(`the path "/${path.join('/')}" is not allowed: Redis Cluster has only database 0`)
  }
  return { topology: 'cluster', ...common, nodes: endpoints }
}

function parseEndpoint(text: string, defaultPort: number, fail: (what: string) => never): RedisEndpoint {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]*)(?::(.*))?$/.exec(text)
  if (!m || m[1] === '') return fail(`the host "${text}" is not a host name or host:port`)
  const host = (m[1] as string).replace(/^\[|\]$/g, '')
  if (m[2] === undefined) return { host, port: defaultPort }
  const port = Number(m[2])
  if (!/^\d+$/.test(m[2]) || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return fail(`the port "${m[2]}" of host "${host}" must be a number from 1 to 65535`)
  }
  return { host, port }
}

function decodeName(text: string, fail: (what: string) => never): string {
  return percentDecode(text) ?? fail(`the master name "${text}" is not valid percent-encoding`)
}

function parseDatabase(text: string | undefined, fail: (what: string) => never): number {
  if (text === undefined || text === '') return 0
  const db = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(db)) {
    return fail(`the database "${text}" must be a whole number such as /0`)
  }
  return db
}

/**
 * The URL with any password replaced by `***`, safe for messages and logs: also for URLs that do
 * not parse (`redis:/user:pw@host`, `user:pw@host`) and `password=` parameters.
 */
export function redactUrl(url: string): string {
  return redact(url)
}
