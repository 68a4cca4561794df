import type { Policy } from '../rules.js'
import { type Adjusted, type AlgorithmImpl, retryUp, type State, type Step } from './types.js'

/** Slack for comparing weighted counts: float noise only, not a fraction of a request. */
const COUNT_EPS = 1e-9

/**
 * Whole requests left under a weighted count. Not `roundDown`: its slack suits millisecond
 * arithmetic, and would report 8 left under a count of 2.0004 out of 10, when the 8th would fail.
 */
const requestsLeft = (n: number): number => Math.max(0, Math.floor(n + COUNT_EPS))

/** The current window's start, and the previous and current windows' counts at `now`. */
function windows(state: State, now: number, w: number): { start: number; prev: number; curr: number } {
  const start = now - (now % w)
  if (state[0] === start) return { start, prev: state[1] ?? 0, curr: state[2] ?? 0 }
  if (state[0] === start - w) return { start, prev: state[2] ?? 0, curr: 0 }
  return { start, prev: 0, curr: 0 }
}

/**
 * Sliding window counter: the previous window's count weighted by how much of it still overlaps
 * the sliding window, plus the current window's count. State `[windowStart, previous, current]`.
 */
function decide(state: State, now: number, cost: number, policy: Policy): Step {
  const w = policy.windowMs
  const limit = policy.limit
  const { start, prev, curr } = windows(state, now, w)
  const elapsed = now - start
  const estimate = (prev * (w - elapsed)) / w + curr
  if (estimate + cost > limit + COUNT_EPS) {
    const need = limit - cost
    let wait: number
    if (curr <= need && prev > 0) wait = w - ((need - curr) * w) / prev - elapsed
    else wait = start + w + (curr > 0 ? w - (need * w) / curr : 0) - now
    return {
      allowed: false,
      remaining: requestsLeft(limit - estimate),
      resetMs: curr > 0 ? start + 2 * w - now : prev > 0 ? start + w - now : 0,
      retryAfterMs: retryUp(wait),
      next: state,
      ttlMs: 0,
    }
  }
  const after = curr + cost
  return {
    allowed: true,
    remaining: requestsLeft(limit - (estimate + cost)),
    resetMs: after > 0 ? start + 2 * w - now : prev > 0 ? start + w - now : 0,
    retryAfterMs: 0,
    next: [start, prev, after],
    ttlMs: start + 2 * w - now,
  }
}

/** `windows` in Lua, for both scripts (decide and adjust). */
const windowsLua = `local function sw_windows(st, now, w)
  local start = now - (now % w)
  if st[1] == start then return start, st[2] or 0, st[3] or 0 end
  if st[1] == start - w then return start, st[3] or 0, 0 end
  return start, 0, 0
end`

const lua = `${windowsLua}
local function left(n) return math.max(0, math.floor(n + 1e-9)) end
ALG['s'] = function(st, now, cost, limit, w, burst)
  local start, prev, curr = sw_windows(st, now, w)
  local elapsed = now - start
  local estimate = (prev * (w - elapsed)) / w + curr
  local reset
  if estimate + cost > limit + 1e-9 then
    local need = limit - cost
    local wait
    if curr <= need and prev > 0 then
      wait = w - ((need - curr) * w) / prev - elapsed
    else
      local extra = 0
      if curr > 0 then extra = w - (need * w) / curr end
      wait = start + w + extra - now
    end
    if curr > 0 then reset = start + 2 * w - now elseif prev > 0 then reset = start + w - now else reset = 0 end
    return 0, left(limit - estimate), reset, retry(wait), st, 0
  end
  local after = curr + cost
  if after > 0 then reset = start + 2 * w - now elseif prev > 0 then reset = start + w - now else reset = 0 end
  return 1, left(limit - (estimate + cost)), reset, 0, {start, prev, after}, start + 2 * w - now
end`

/**
 * A penalty adds to the current window's count. A reward takes from it first, then from the
 * previous window's count: unweighted, so a reward taken there gives back at most `points`.
 */
function adjust(state: State, now: number, points: number, policy: Policy): Adjusted {
  const w = policy.windowMs
  const { start, ...counts } = windows(state, now, w)
  let { prev, curr } = counts
  if (points >= 0) curr = curr + points
  else {
    const fromCurr = Math.min(curr, -points)
    curr = curr - fromCurr
    prev = Math.max(0, prev - (-points - fromCurr))
  }
  const ttlMs = curr > 0 ? start + 2 * w - now : prev > 0 ? start + w - now : 0
  return { next: [start, prev, curr], ttlMs }
}

const adjustLua = `${windowsLua}
ADJ['s'] = function(st, now, points, limit, w, burst)
  local start, prev, curr = sw_windows(st, now, w)
  if points >= 0 then
    curr = curr + points
  else
    local fromCurr = math.min(curr, -points)
    curr = curr - fromCurr
    prev = math.max(0, prev - (-points - fromCurr))
  end
  local ttl = 0
  if curr > 0 then ttl = start + 2 * w - now elseif prev > 0 then ttl = start + w - now end
  return {start, prev, curr}, ttl
end`

export const slidingWindow: AlgorithmImpl = {
  algorithm: 'sliding-window',
  code: 's',
  decide,
  lua,
  adjust,
  adjustLua,
}
