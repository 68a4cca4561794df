import type { Policy } from '../rules.js'
import { type Adjusted, type AlgorithmImpl, retryUp, roundUp, type State, type Step } from './types.js'

/** Slack for token counts: float noise only (a token step can be as small as 0.001). */
const TOKEN_EPS = 1e-6
const floorTokens = (n: number) => Math.max(0, Math.floor(n + TOKEN_EPS))

/** The bucket's capacity, refill rate (tokens per ms) and tokens at `now`. */
function refill(state: State, now: number, policy: Policy): { cap: number; rate: number; tokens: number } {
  const cap = policy.burst
  const rate = policy.limit / policy.windowMs
  const stored = state[0]
  const at = state[1] ?? now
  return {
    cap,
    rate,
    tokens: stored === undefined ? cap : Math.min(cap, stored + Math.max(0, now - at) * rate),
  }
}

/**
 * Token bucket: `burst` tokens, refilled at `limit` per window. State `[tokens, updatedAt]`; a
 * missing state is a full bucket.
 */
function decide(state: State, now: number, cost: number, policy: Policy): Step {
  const { cap, rate, tokens } = refill(state, now, policy)
  if (tokens + TOKEN_EPS < cost) {
    return {
      allowed: false,
      remaining: floorTokens(tokens),
      resetMs: roundUp((cap - tokens) / rate),
      retryAfterMs: retryUp((cost - tokens) / rate),
      next: state,
      ttlMs: 0,
    }
  }
  const left = tokens - cost
  return {
    allowed: true,
    remaining: floorTokens(left),
    resetMs: roundUp((cap - left) / rate),
    retryAfterMs: 0,
    next: [left, now],
    ttlMs: Math.max(1, Math.ceil((cap - left) / rate)),
  }
}

/** `refill` in Lua, for both scripts (decide and adjust). */
const refillLua = `local function tb_refill(st, now, limit, window, burst)
  local rate = limit / window
  if st[1] == nil then return burst, rate, burst end
  local at = st[2] or now
  return burst, rate, math.min(burst, st[1] + math.max(0, now - at) * rate)
end`

const lua = `${refillLua}
ALG['t'] = function(st, now, cost, limit, window, burst)
  local TEPS = 1e-6
  local cap, rate, tokens = tb_refill(st, now, limit, window, burst)
  if tokens + TEPS < cost then
    return 0, math.max(0, math.floor(tokens + TEPS)), up((cap - tokens) / rate), retry((cost - tokens) / rate), st, 0
  end
  local left = tokens - cost
  return 1, math.max(0, math.floor(left + TEPS)), up((cap - left) / rate), 0, {left, now}, math.max(1, math.ceil((cap - left) / rate))
end`

/** Tokens move by `-points`: never above the capacity, below zero after a penalty (a debt). */
function adjust(state: State, now: number, points: number, policy: Policy): Adjusted {
  const { cap, rate, tokens } = refill(state, now, policy)
  const after = Math.min(cap, tokens - points)
  return { next: [after, now], ttlMs: after >= cap ? 0 : Math.max(1, Math.ceil((cap - after) / rate)) }
}

const adjustLua = `${refillLua}
ADJ['t'] = function(st, now, points, limit, window, burst)
  local cap, rate, tokens = tb_refill(st, now, limit, window, burst)
  local after = math.min(cap, tokens - points)
  if after >= cap then return {after, now}, 0 end
  return {after, now}, math.max(1, math.ceil((cap - after) / rate))
end`

export const tokenBucket: AlgorithmImpl = {
  algorithm: 'token-bucket',
  code: 't',
  decide,
  lua,
  adjust,
  adjustLua,
}
