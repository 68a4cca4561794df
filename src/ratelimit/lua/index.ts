// Internal door: what code outside ratelimit/lua/ uses from it. Never in package.json "exports".
export { adjustScript } from './adjust.js'
export { rateScript } from './rate.js'
