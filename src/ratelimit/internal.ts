// Internal door: what code outside ratelimit/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".

export type { UserNormalization } from './identity.js'
export { checkIpv6Prefix, checkUserNormalization, ipIdentity, normalizeUsername } from './identity.js'
