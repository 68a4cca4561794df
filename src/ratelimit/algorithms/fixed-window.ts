import type { Policy } from '../rules.js'
import type { Adjusted, AlgorithmImpl, State, Step } from './types.js'

/**
 * Fixed window: a counter per window aligned to the epoch. State `[windowStart, count]`. Cheap and
 * easy to explain; allows up to twice the limit across a window boundary.
 */
function decide(state: State, now: number, cost: number, policy: Policy): Step {
  const start = now - (now % policy.windowMs)
  const left = start + policy.windowMs - now
  const count = state[0] === start ? (state[1] ?? 0) : 0
  if (count + cost > policy.limit) {
    return {
      allowed: false,
      // A penalty can put the count past the limit.
      remaining: Math.max(0, policy.limit - count),
      resetMs: left,
      retryAfterMs: left,
      next: state,
      ttlMs: 0,
    }
  }
  return {
    allowed: true,
    remaining: policy.limit - count - cost,
    resetMs: left,
    retryAfterMs: 0,
    next: [start, count + cost],
    ttlMs: left,
  }
}

const lua = `ALG['f'] = function(st, now, cost, limit, window, burst)
  local start = now - (now % window)
  local left = start + window - now
  local count = 0
  if st[1] == start then count = st[2] or 0 end
  if count + cost > limit then
    return 0, math.max(0, limit - count), left, left, st, 0
  end
  return 1, limit - count - cost, left, 0, {start, count + cost}, left
end`

/** The current window's count moves by `points`, never below 0; a penalty lasts to the window's end. */
function adjust(state: State, now: number, points: number, policy: Policy): Adjusted {
  const start = now - (now % policy.windowMs)
  const left = start + policy.windowMs - now
  const count = state[0] === start ? (state[1] ?? 0) : 0
  const after = Math.max(0, count + points)
  return { next: [start, after], ttlMs: after > 0 ? left : 0 }
}

const adjustLua = `ADJ['f'] = function(st, now, points, limit, window, burst)
  local start = now - (now % window)
  local left = start + window - now
  local count = 0
  if st[1] == start then count = st[2] or 0 end
  local after = math.max(0, count + points)
  if after > 0 then return {start, after}, left end
  return {start, after}, 0
end`

export const fixedWindow: AlgorithmImpl = {
  algorithm: 'fixed-window',
  code: 'f',
  decide,
  lua,
  adjust,
  adjustLua,
}
