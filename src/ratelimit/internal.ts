// Internal door: what code outside ratelimit/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".

export { type Backing, resolveBacking, type StateMap } from './backend.js'
export type { UserNormalization } from './identity.js'
export { checkIpv6Prefix, checkUserNormalization, ipIdentity, normalizeUsername } from './identity.js'
