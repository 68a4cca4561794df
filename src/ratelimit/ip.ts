import { BlockList } from 'node:net'
import { InvalidOptionError } from '../errors.js'
import { describe } from '../internal/index.js'
import { checkIpv6Prefix, formatIp, ipIdentity, parseIp } from './identity.js'

/** An IPv4-mapped IPv6 address becomes its IPv4 address; any IP its canonical form; anything else is kept. */
export function normalizeIp(ip: string): string {
  const parsed = parseIp(ip)
  return parsed === undefined ? ip : formatIp(parsed)
}

/**
 * The rate limit key of a client address: canonical IPv4, or the IPv6 network of `ipv6Prefix`
 * bits (default 64). Text that is not an IP is returned as given.
 */
export function ipKey(ip: string, ipv6Prefix = 64): string {
  return ipIdentity(ip, checkIpv6Prefix(ipv6Prefix)) ?? ip
}

/** A list of addresses and CIDR ranges, IPv4 and IPv6 (`'10.0.0.0/8'`, `'2001:db8::/32'`, `'::1'`). */
export interface AddressList {
  has(ip: string): boolean
}

/** Named ranges, as proxy-addr names them. `'private'` is an alias of `'uniquelocal'`. */
export const PRESETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
}

/**
 * Compiles addresses, CIDR ranges and presets (`'loopback'`, `'linklocal'`, `'uniquelocal'` /
 * `'private'`) into a list. IPv4-mapped IPv6 entries and addresses match their IPv4 form.
 */
export function addressList(entries: readonly string[], option = 'address list'): AddressList {
  if (!Array.isArray(entries))
    throw new InvalidOptionError(`${option} must be an array of IPs, CIDR ranges or presets`)
  const list = new BlockList()
  const add = (entry: unknown) => {
    if (typeof entry !== 'string') {
      throw new InvalidOptionError(`${option}: ${describe(entry)} is not an IP address or CIDR range`)
    }
    const preset = PRESETS[entry.trim()]
    if (preset) {
      for (const range of preset) add(range)
      return
    }
    const [address = '', bits, extra] = entry.trim().split('/')
    const ip = parseIp(address)
    const mappedV4 = ip?.family === 4 && address.includes(':')
    const max = ip?.family === 4 ? 32 : 128
    let prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN
    // `::ffff:10.0.0.0/104` is the IPv4 range 10.0.0.0/8 seen through a dual-stack socket.
    if (mappedV4 && bits !== undefined) prefix -= 96
    const bad = ip === undefined || extra !== undefined || !Number.isInteger(prefix) || prefix < 0
    if (bad || prefix > (ip?.family === 4 ? 32 : 128)) {
      throw new InvalidOptionError(
        `${option}: ${describe(entry)} is not an IP address, CIDR range or preset (e.g. '203.0.113.7', '10.0.0.0/8', '2001:db8::/32', 'loopback')`,
      )
    }
    list.addSubnet(formatIp(ip), prefix, ip.family === 4 ? 'ipv4' : 'ipv6')
  }
  for (const entry of entries) add(entry)
  return {
    has(raw) {
      const ip = typeof raw === 'string' ? parseIp(raw) : undefined
      if (ip === undefined) return false
      return list.check(formatIp(ip), ip.family === 4 ? 'ipv4' : 'ipv6')
    },
  }
}
