import { BlockList, isIP } from 'node:net'
import { InvalidOptionError } from '../errors.js'
import { describe } from '../internal/duration.js'

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) becomes its IPv4 address; others are kept. */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  return mapped ? (mapped[1] as string) : ip
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined
  let text = ip.split('%')[0] as string
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...fill, ...right].map((g) => Number.parseInt(g, 16))
}

/**
 * The rate limit key of a client address: IPv4 as is, IPv6 grouped by its /64 prefix (one
 * subscriber usually holds a whole /64, so per-address limits would be trivial to dodge).
 */
export function ipKey(ip: string, ipv6Prefix = 64): string {
  const address = normalizeIp(ip)
  const groups = ipv6Groups(address)
  if (groups === undefined) return address
  const keep = Math.max(0, Math.min(128, ipv6Prefix))
  const out = groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, keep - i * 16))
    return bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff
  })
  return `${out.map((g) => g.toString(16)).join(':')}/${keep}`
}

/** A list of addresses and CIDR ranges, IPv4 and IPv6 (`'10.0.0.0/8'`, `'2001:db8::/32'`, `'::1'`). */
export interface AddressList {
  has(ip: string): boolean
}

export function addressList(entries: readonly string[], option = 'address list'): AddressList {
  if (!Array.isArray(entries))
    throw new InvalidOptionError(`${option} must be an array of IPs or CIDR ranges`)
  const list = new BlockList()
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      throw new InvalidOptionError(`${option}: ${describe(entry)} is not an IP address or CIDR range`)
    }
    const [address = '', bits, extra] = entry.trim().split('/')
    const ip = normalizeIp(address)
    const family = isIP(ip)
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    const max = family === 4 ? 32 : 128
    if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new InvalidOptionError(
        `${option}: ${describe(entry)} is not an IP address or CIDR range (e.g. '203.0.113.7', '10.0.0.0/8', '2001:db8::/32')`,
      )
    }
    list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
  return {
    has(raw) {
      const ip = normalizeIp(raw)
      const family = isIP(ip)
      if (family === 0) return false
      return list.check(ip, family === 4 ? 'ipv4' : 'ipv6')
    },
  }
}

/**
 * Which proxies to believe about the client address in `X-Forwarded-For`:
 * - `false` (default): none; the socket's peer is the client;
 * - a number `n`: the last `n` hops are trusted proxies;
 * - a list of addresses/CIDRs: hops from those are trusted.
 */
export type TrustProxy = false | number | readonly string[]

export function compileTrust(
  trust: TrustProxy | undefined,
): (peer: string, forwarded: string | undefined) => string {
  if (trust === undefined || trust === false) return (peer) => normalizeIp(peer)
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) {
      throw new InvalidOptionError(`trustProxy must be false, a whole number of hops, or a list of CIDRs`)
    }
    return (peer, forwarded) => {
      const hops = [...parseForwarded(forwarded), normalizeIp(peer)]
      return hops[Math.max(0, hops.length - 1 - trust)] as string
    }
  }
  const trusted = addressList(trust, 'trustProxy')
  return (peer, forwarded) => {
    const hops = [...parseForwarded(forwarded), normalizeIp(peer)]
    for (let i = hops.length - 1; i > 0; i--) {
      if (!trusted.has(hops[i] as string)) return hops[i] as string
    }
    return hops[0] as string
  }
}

function parseForwarded(header: string | undefined): string[] {
  if (!header) return []
  return header
    .split(',')
    .map((s) => normalizeIp(s.trim().replace(/^\[(.*)\](:\d+)?$/, '$1')))
    .filter((s) => isIP(s) !== 0)
}
