// Internal door: the rate-limit algorithms (fixed window, sliding window, token bucket, GCRA), each in TypeScript and in Lua.
import type { Algorithm } from '../rules.js'
import { fixedWindow } from './fixed-window.js'
import { gcra } from './gcra.js'
import { slidingWindow } from './sliding-window.js'
import { tokenBucket } from './token-bucket.js'
import type { AlgorithmImpl } from './types.js'

export const IMPLEMENTATIONS: Readonly<Record<Algorithm, AlgorithmImpl>> = {
  gcra,
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
  'token-bucket': tokenBucket,
}

export type { AlgorithmImpl, State, Step } from './types.js'
export { LUA_HELPERS } from './types.js'
