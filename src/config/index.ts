export { cacheFromEnv, describeAndCreate, type Env, type EnvCacheDescription } from './from-env.js'
