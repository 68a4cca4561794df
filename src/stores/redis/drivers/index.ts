// Internal door: what code outside stores/redis/drivers/ uses from it. Never in package.json "exports".
export { isIORedis, wrapIORedis } from './ioredis.js'
export { createNodeRedisDriver, wrapNodeRedis } from './node-redis.js'
