/**
 * The client's address behind proxies, with proxy-addr's trust model: walk from the socket peer
 * towards the client, one `X-Forwarded-For` (or RFC 7239 `Forwarded`) entry per hop, while the
 * current hop is trusted. Entries are never dropped, so an entry a trusted proxy wrote as `ip:port`
 * or `unknown` keeps its position and a client-supplied entry can never slide into it.
 */
import { InvalidOptionError } from '../errors.js'
import { describe } from '../internal/index.js'
import { formatIp, type IpAddress, parseIp } from './identity.js'
import { addressList } from './ip.js'

/**
 * Which proxies to believe about the client address:
 * - `false` or `0` (default): none; the socket peer is the client;
 * - a number `n`: the `n` hops nearest the server are trusted proxies (`1`: one load balancer);
 * - addresses, CIDR ranges and presets (`'loopback'`, `'linklocal'`, `'uniquelocal'`/`'private'`),
 *   as a list or one comma-separated string: hops from those are trusted;
 * - a function `(address, hop) => boolean` (hop 0 is the socket peer);
 * - `true`: every hop (only when the server is unreachable except through proxies that overwrite
 *   the header: the left-most entry is whatever the client sent).
 */
export type TrustProxy =
  | boolean
  | number
  | string
  | readonly string[]
  | ((address: string, hop: number) => boolean)

/** How to find the client address behind proxies: which proxies to trust and which header to read. */
export interface ClientIpOptions {
  readonly trustProxy?: TrustProxy
  /**
   * The header trusted proxies write: `'x-forwarded-for'` (default) or `'forwarded'` (RFC 7239).
   * Only one is read, so a client cannot pick the one its proxy leaves alone.
   */
  readonly header?: 'x-forwarded-for' | 'forwarded'
}

/** Resolves a client address from the socket peer and a header reader; undefined when unknown. */
export type ClientIpResolver = (
  peer: string | undefined,
  header: (name: string) => string | undefined,
) => string | undefined

function compileTrustFunction(trust: TrustProxy | undefined): (ip: string, hop: number) => boolean {
  if (trust === undefined || trust === false) return () => false
  if (trust === true) return () => true
  if (typeof trust === 'function') return (ip, hop) => trust(ip, hop) === true
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0 || trust > 100) {
      throw new InvalidOptionError(
        `trustProxy as a number is a count of proxy hops from 0 to 100, got ${describe(trust)}`,
      )
    }
    return (_ip, hop) => hop < trust
  }
  const entries = typeof trust === 'string' ? trust.split(',').map((s) => s.trim()) : trust
  if (!Array.isArray(entries)) {
    throw new InvalidOptionError(
      `trustProxy must be false, true, a hop count, a list of IPs/CIDRs/presets, or a function; got ${describe(trust)}`,
    )
  }
  const list = addressList(entries, 'trustProxy')
  return (ip) => list.has(ip)
}

/** One hop's address from an `X-Forwarded-For` entry: a bare IP, `v4:port` or `[v6]:port`. */
export function parseHop(entry: string): IpAddress | undefined {
  const text = entry.trim()
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end === -1) return undefined
    const rest = text.slice(end + 1)
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined
    const ip = parseIp(text.slice(1, end))
    // Brackets only ever wrap IPv6; `[1.2.3.4]` is not a form any proxy writes.
    return ip !== undefined && text.slice(1, end).includes(':') ? ip : undefined
  }
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text)
  return parseIp(withPort ? (withPort[1] as string) : text)
}

/** Splits on `sep` outside double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted && c === '\\') {
      current += c + (text[i + 1] ?? '')
      i++
      continue
    }
    if (c === '"') quoted = !quoted
    if (c === sep && !quoted) {
      out.push(current)
      current = ''
    } else current += c
  }
  out.push(current)
  return out
}

/**
 * The hops of an RFC 7239 `Forwarded` header, client first: each element's `for=` node, undefined
 * where it is `unknown`, obfuscated (`_hidden`), missing or malformed.
 */
export function parseForwarded(header: string): (IpAddress | undefined)[] {
  return splitOutsideQuotes(header, ',').map((element) => {
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=')
      if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue
      let value = pair.slice(eq + 1).trim()
      if (value.startsWith('"')) {
        if (value.length < 2 || !value.endsWith('"')) return undefined
        value = value.slice(1, -1).replace(/\\(.)/g, '$1')
      }
      return parseHop(value)
    }
    return undefined
  })
}

function checkHeader(header: unknown): 'x-forwarded-for' | 'forwarded' {
  if (header === undefined) return 'x-forwarded-for'
  if (header === 'x-forwarded-for' || header === 'forwarded') return header
  throw new InvalidOptionError(
    `clientIp header must be 'x-forwarded-for' or 'forwarded', got ${describe(header)}`,
  )
}

/** Compiles {@link ClientIpOptions} once, for a middleware that resolves every request. */
export function compileClientIp(options: ClientIpOptions = {}): ClientIpResolver {
  const trust = compileTrustFunction(options.trustProxy)
  const header = checkHeader(options.header)
  const trustsNothing = options.trustProxy === undefined || options.trustProxy === false
  return (peer, readHeader) => {
    const socket = peer === undefined ? undefined : parseIp(peer)
    if (socket === undefined) return undefined
    if (trustsNothing) return formatIp(socket)
    let hops: (IpAddress | undefined)[] | undefined
    let current: IpAddress | undefined = socket
    for (let hop = 0; ; hop++) {
      // Stop at an entry that is not an address: a trusted proxy wrote it, so the client is unknown;
      // it is never skipped, so nothing the client wrote further left can take its place.
      if (current === undefined) return undefined
      if (!trust(formatIp(current), hop)) return formatIp(current)
      if (hops === undefined) {
        const value = readHeader(header)
        if (value === undefined || value.trim() === '') return formatIp(current)
        hops = header === 'forwarded' ? parseForwarded(value) : value.split(',').map(parseHop)
      }
      if (hops.length === 0) return formatIp(current)
      current = hops.pop()
    }
  }
}

interface Headers {
  readonly [name: string]: string | readonly string[] | undefined
}

interface RequestLike {
  readonly socket?: { readonly remoteAddress?: string | undefined } | null
  readonly headers?: Headers
  /** Fastify's request wraps Node's. */
  readonly raw?: RequestLike
  /** Hono's context on `@hono/node-server`. */
  readonly env?: { readonly incoming?: RequestLike } | undefined
  readonly req?: { header(name: string): string | undefined }
}

function readRecord(headers: Headers | undefined, name: string): string | undefined {
  const value = headers?.[name]
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : undefined
}

/**
 * The client's IP address (canonical; IPv4-mapped IPv6 as IPv4) for a Node, Express or Fastify
 * request or a Hono context on `@hono/node-server`, believing forwarding headers only from
 * `trustProxy` hops. Undefined when the client is unknown (no socket address, or a trusted proxy
 * wrote `unknown` or an obfuscated name).
 *
 * ```ts
 * const ip = clientIp(req, { trustProxy: 'loopback' }) // nginx on the same host
 * ```
 */
export function clientIp(request: unknown, options: ClientIpOptions = {}): string | undefined {
  return compileClientIp(options)(...requestAccess(request))
}

/** The socket peer and a header reader of a Node, Express, Fastify or Hono (node-server) request. */
export function requestAccess(request: unknown): [string | undefined, (name: string) => string | undefined] {
  if (request === null || typeof request !== 'object') {
    throw new InvalidOptionError(
      `clientIp needs a Node, Express, Fastify or Hono request, got ${describe(request)}`,
    )
  }
  const r = request as RequestLike
  if (r.env?.incoming && typeof r.req?.header === 'function') {
    const hono = r.req
    return [r.env.incoming.socket?.remoteAddress, (name) => hono.header(name)]
  }
  const node = r.raw?.socket ? r.raw : r
  return [node.socket?.remoteAddress ?? undefined, (name) => readRecord(r.headers ?? node.headers, name)]
}
