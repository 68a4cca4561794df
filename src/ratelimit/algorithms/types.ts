import type { Algorithm, Policy } from '../rules.js'

/** An algorithm's state: a few numbers, `[]` when there is none. Redis keeps it as `'n n n'`. */
export type State = readonly number[]

/** One policy's decision for one request, before any write. Times are whole milliseconds. */
export interface Step {
  readonly allowed: boolean
  /** Requests left after this one (or now, when refused). */
  readonly remaining: number
  /** Until the allowance is whole again. */
  readonly resetMs: number
  /** Until a request of this cost could pass; 0 when allowed. */
  readonly retryAfterMs: number
  /** The state to write when the request is granted. */
  readonly next: State
  /** How long that state matters; it can be forgotten afterwards. */
  readonly ttlMs: number
}

/**
 * A reward or a penalty applied to one policy's state: the state to write, and how long it matters
 * (`ttlMs <= 0`: the allowance is whole again, forget the state).
 */
export interface Adjusted {
  readonly next: State
  readonly ttlMs: number
}

/**
 * One algorithm, written twice on purpose: `decide` for the in-process backend and `lua` for the
 * Redis script. Both follow the same arithmetic step by step (doubles in both), so the two backends
 * agree; the model tests hold `decide` to a reference and the Redis suite runs the same scenarios.
 *
 * The Lua text defines `ALG['<code>'] = function(st, now, cost, limit, window, burst)` returning
 * `allowed (0|1), remaining, resetMs, retryAfterMs, nextState, ttlMs`; the adjust Lua defines
 * `ADJ['<code>'] = function(st, now, points, limit, window, burst)` returning `nextState, ttlMs`.
 */
export interface AlgorithmImpl {
  readonly algorithm: Algorithm
  readonly code: string
  decide(state: State, now: number, cost: number, policy: Policy): Step
  readonly lua: string
  /**
   * Takes `points` (> 0, a penalty: may go past the limit) or gives `-points` back (< 0, a reward:
   * never beyond a whole allowance), without a decision.
   */
  adjust(state: State, now: number, points: number, policy: Policy): Adjusted
  readonly adjustLua: string
}

/** Slack for float comparisons (ms or tokens): doubles near 1.7e12 ms are exact only to ~0.0002. */
export const EPS = 0.001

export const roundUp = (ms: number): number => Math.max(0, Math.ceil(ms - EPS))
export const roundDown = (n: number): number => Math.max(0, Math.floor(n + EPS))
export const retryUp = (ms: number): number => Math.max(1, Math.ceil(ms - EPS))

/** The same helpers for the Lua side. */
export const LUA_HELPERS = `local EPS = 0.001
local function up(x) return math.max(0, math.ceil(x - EPS)) end
local function down(x) return math.max(0, math.floor(x + EPS)) end
local function retry(x) return math.max(1, math.ceil(x - EPS)) end
local ALG = {}
local ADJ = {}`
