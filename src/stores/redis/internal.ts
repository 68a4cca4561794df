// Internal door: what code outside stores/redis/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".
export { parseInfo } from './inspect.js'
