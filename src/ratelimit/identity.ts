/**
 * Who a request or a login attempt counts against, computed in one place so the rate limiter, the
 * login guard and the middleware can never disagree: an address written six ways is one client,
 * and a login written with other case, spaces or full-width letters is one user.
 */
import { createHash } from 'node:crypto'
import { InvalidOptionError } from '../errors.js'
import { describe } from '../internal/index.js'
import { InvalidIdentityError } from './errors.js'

/** A parsed IP address. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is its IPv4 address. */
export interface IpAddress {
  readonly family: 4 | 6
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array
}

const V4_PART = /^(?:0|[1-9]\d{0,2})$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

function parseV4(text: string, into: Uint8Array, at: number): boolean {
  const parts = text.split('.')
  if (parts.length !== 4) return false
  for (const [i, part] of parts.entries()) {
    // Leading zeros are refused: some stacks read them as octal, so `010.0.0.1` is ambiguous.
    if (!V4_PART.test(part)) return false
    const n = Number(part)
    if (n > 255) return false
    into[at + i] = n
  }
  return true
}

function parseV6(input: string): Uint8Array | undefined {
  // A zone (`fe80::1%eth0`) names an interface of this host, not the peer: it is dropped.
  const zoneAt = input.indexOf('%')
  if (zoneAt === 0 || zoneAt === input.length - 1) return undefined
  const text = zoneAt === -1 ? input : input.slice(0, zoneAt)
  const bytes = new Uint8Array(16)
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'))
  const head = groupsOf(halves[0] as string)
  const tail = halves.length === 2 ? groupsOf(halves[1] as string) : []
  const all = halves.length === 2 ? tail : head
  // A trailing dotted IPv4 stands for the last two groups.
  let v4: string | undefined
  const last = all[all.length - 1]
  if (last?.includes('.')) {
    v4 = last
    all.pop()
  }
  const words = head.length + (halves.length === 2 ? tail.length : 0) + (v4 ? 2 : 0)
  if (halves.length === 2 ? words > 7 : words !== 8) return undefined
  const write = (groups: string[], from: number) => {
    for (const [i, g] of groups.entries()) {
      if (!HEX_GROUP.test(g)) return false
      const n = Number.parseInt(g, 16)
      bytes[from + i * 2] = n >> 8
      bytes[from + i * 2 + 1] = n & 0xff
    }
    return true
  }
  if (halves.length === 2) {
    if (!write(head, 0)) return undefined
    if (!write(tail, 16 - (tail.length + (v4 ? 2 : 0)) * 2)) return undefined
  } else if (!write(head, 0)) return undefined
  if (v4 !== undefined && !parseV4(v4, bytes, 12)) return undefined
  return bytes
}

/** Parses an IPv4 or IPv6 address strictly (no port, no brackets); undefined when it is not one. */
export function parseIp(input: string): IpAddress | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > 100) return undefined
  if (!input.includes(':')) {
    const bytes = new Uint8Array(4)
    return parseV4(input, bytes, 0) ? { family: 4, bytes } : undefined
  }
  const bytes = parseV6(input)
  if (bytes === undefined) return undefined
  // ::ffff:0:0/96 (dotted or hex) is an IPv4 client seen through a dual-stack socket.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { family: 4, bytes: bytes.slice(12) }
  }
  return { family: 6, bytes }
}

/** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes
  if (ip.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] as number) << 8) | (b[i + 1] as number))
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':')
  if (bestAt === -1) return hex(0, 8)
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`
}

/** The canonical form of an address (see {@link formatIp}), or undefined when `input` is not one. */
export function canonicalIp(input: string): string | undefined {
  const ip = parseIp(input)
  return ip === undefined ? undefined : formatIp(ip)
}

/** Checks an IPv6 grouping prefix length; used by every option that takes one. */
export function checkIpv6Prefix(value: unknown, option = 'ipv6Prefix'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 128) {
    throw new InvalidOptionError(
      `${option} must be a whole number from 1 to 128 (64 groups a subscriber's /64), got ${describe(value)}`,
    )
  }
  return value
}

/**
 * The identity of a client address: canonical IPv4, or the IPv6 network of `ipv6Prefix` bits
 * (default 64: one subscriber usually holds a whole /64, so per-address limits would be trivial to
 * dodge) written `2001:db8:1:2::/64`. Undefined when `input` is not an IP address.
 */
export function ipIdentity(input: string, ipv6Prefix = 64): string | undefined {
  const ip = parseIp(input)
  if (ip === undefined) return undefined
  if (ip.family === 4 || ipv6Prefix >= 128) return formatIp(ip)
  const bytes = new Uint8Array(16)
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, ipv6Prefix - i * 8))
    bytes[i] = (ip.bytes[i] as number) & ((0xff << (8 - bits)) & 0xff)
  }
  return `${formatIp({ family: 6, bytes })}/${ipv6Prefix}`
}

/**
 * How usernames become identities:
 * - `true` (default): trimmed, NFKC-normalised (full-width letters become ASCII) and case-folded;
 * - `'trim'`: trimmed and NFKC-normalised, case kept (for systems with case-sensitive logins);
 * - `false`: as given;
 * - a function: your own mapping (its result is used as is).
 *
 * Whatever the choice, a name with a lone surrogate is refused with {@link InvalidIdentityError}.
 */
export type UserNormalization = boolean | 'trim' | ((name: string) => string)

/** Checks a `normalizeUser` option (default `true`); a typed error names the accepted values. */
export function checkUserNormalization(value: unknown, option = 'normalizeUser'): UserNormalization {
  if (value === undefined) return true
  if (typeof value === 'boolean' || value === 'trim' || typeof value === 'function')
    return value as UserNormalization
  throw new InvalidOptionError(`${option} must be true, false, 'trim' or a function, got ${describe(value)}`)
}

const LONE_SURROGATE = /\p{Cs}/u

/** Names longer than this are identified by their SHA-256, so keys stay short whatever is sent. */
const MAX_NAME = 256

/** The identity of a username under `mode` (see {@link UserNormalization}). */
export function normalizeUsername(name: unknown, mode: UserNormalization = true): string {
  if (typeof name !== 'string') {
    throw new InvalidIdentityError(`A username must be a string, got ${describe(name)}`)
  }
  if (LONE_SURROGATE.test(name)) {
    throw new InvalidIdentityError(
      'A username holds a lone UTF-16 surrogate, which no keyboard produces: refuse the attempt',
    )
  }
  let out: string
  if (mode === false) out = name
  else if (typeof mode === 'function') {
    out = mode(name)
    if (typeof out !== 'string' || LONE_SURROGATE.test(out)) {
      throw new InvalidIdentityError('normalizeUser must return a well-formed string')
    }
  } else {
    out = name.normalize('NFKC').trim()
    // Upper then lower case approximates Unicode full case folding (ß and SS, ς and σ agree).
    if (mode === true) out = out.toUpperCase().toLowerCase().normalize('NFKC')
  }
  return out.length > MAX_NAME ? `sha256:${createHash('sha256').update(out).digest('hex')}` : out
}
