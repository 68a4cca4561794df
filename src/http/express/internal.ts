// Internal door: what code outside http/express/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".
export { expressSessionStore } from './session.js'
export { type ExpressSessionOptions, expressSession } from './session-middleware.js'
