// Internal door: what code outside http/cache/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".
export { fromRecord } from './headers.js'
export type { Captured, Forward } from './reply.js'
export { outgoing } from './reply.js'
export { captureWeb, pathAndQuery, webReply, webView } from './web.js'
