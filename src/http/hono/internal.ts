// Internal door: what code outside http/hono/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".

export type { HonoSession, HonoSessionOptions } from './session.js'
export { honoSession } from './session.js'
