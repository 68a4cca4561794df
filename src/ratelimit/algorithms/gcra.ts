import type { Policy } from '../rules.js'
import {
  type Adjusted,
  type AlgorithmImpl,
  EPS,
  retryUp,
  roundDown,
  roundUp,
  type State,
  type Step,
} from './types.js'

/**
 * GCRA (generic cell rate algorithm): the state is one number, the theoretical arrival time (TAT).
 * Each request moves it on by `T = window / limit` per unit of cost; a request is refused when that
 * would put the TAT more than `burst * T` past now. Smooth, with no bursts at window boundaries.
 */
function decide(state: State, now: number, cost: number, policy: Policy): Step {
  const t = policy.windowMs / policy.limit
  const tau = t * policy.burst
  const stored = state[0]
  const tat = stored === undefined || stored < now ? now : stored
  const newTat = tat + t * cost
  const allowAt = newTat - tau
  if (allowAt - now > EPS) {
    return {
      allowed: false,
      remaining: roundDown((tau - (tat - now) + EPS) / t - EPS),
      resetMs: roundUp(tat - now),
      retryAfterMs: retryUp(allowAt - now),
      next: state,
      ttlMs: 0,
    }
  }
  return {
    allowed: true,
    remaining: roundDown((tau - (newTat - now) + EPS) / t - EPS),
    resetMs: roundUp(newTat - now),
    retryAfterMs: 0,
    next: [newTat],
    ttlMs: Math.ceil(newTat - now),
  }
}

const lua = `ALG['g'] = function(st, now, cost, limit, window, burst)
  local t = window / limit
  local tau = t * burst
  local tat = st[1]
  if tat == nil or tat < now then tat = now end
  local newTat = tat + t * cost
  local allowAt = newTat - tau
  if allowAt - now > EPS then
    return 0, down((tau - (tat - now) + EPS) / t - EPS), up(tat - now), retry(allowAt - now), st, 0
  end
  return 1, down((tau - (newTat - now) + EPS) / t - EPS), up(newTat - now), 0, {newTat}, math.ceil(newTat - now)
end`

/** The TAT moves by `T` per point: never before now (a whole allowance), past `now + tau` after a penalty. */
function adjust(state: State, now: number, points: number, policy: Policy): Adjusted {
  const t = policy.windowMs / policy.limit
  const stored = state[0]
  const tat = stored === undefined || stored < now ? now : stored
  const newTat = Math.max(now, tat + t * points)
  return { next: [newTat], ttlMs: Math.ceil(newTat - now) }
}

const adjustLua = `ADJ['g'] = function(st, now, points, limit, window, burst)
  local t = window / limit
  local tat = st[1]
  if tat == nil or tat < now then tat = now end
  local newTat = math.max(now, tat + t * points)
  return {newTat}, math.ceil(newTat - now)
end`

export const gcra: AlgorithmImpl = { algorithm: 'gcra', code: 'g', decide, lua, adjust, adjustLua }
