// Internal door: what code outside session/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".
export { type RequestSessionRun, sessionMiddlewareCore } from './request.js'
