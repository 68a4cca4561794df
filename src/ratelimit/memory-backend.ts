import type { Clock } from '../internal/index.js'
import { IMPLEMENTATIONS, type Step } from './algorithms/index.js'
import {
  asState,
  blockKey,
  type Mode,
  type PolicyOutcome,
  type RateBackend,
  type StateMap,
  stateKey,
} from './backend.js'
import type { Policy } from './rules.js'
import { manualBlockKey, type RateWriter } from './writer.js'

/**
 * Exact, in-process decisions. Each call runs synchronously from read to write, so within one
 * process it is as atomic as the Redis script: nothing interleaves.
 */
export class MemoryRateBackend implements RateBackend, RateWriter {
  constructor(
    readonly map: StateMap,
    readonly clock: Clock,
  ) {}

  async decide(
    base: string,
    policies: readonly Policy[],
    cost: number,
    mode: Mode,
  ): Promise<PolicyOutcome[]> {
    return this.decideNow(base, policies, cost, mode)
  }

  decideNow(base: string, policies: readonly Policy[], cost: number, mode: Mode): PolicyOutcome[] {
    const now = Math.floor(this.clock.now())
    const held = this.map.get(manualBlockKey(base)) as number | undefined
    if (held !== undefined && held > now) {
      const wait = held - now
      return policies.map(() => ({
        allowed: false,
        remaining: 0,
        resetMs: wait,
        retryAfterMs: wait,
        blocked: true,
      }))
    }
    const steps: (Step | undefined)[] = []
    const blocks: number[] = []
    let all = true
    for (const [i, policy] of policies.entries()) {
      const until = policy.blockMs > 0 ? (this.map.get(blockKey(base, i)) as number | undefined) : undefined
      if (until !== undefined && until > now) {
        blocks.push(until - now)
        steps.push(undefined)
        all = false
        continue
      }
      blocks.push(0)
      const impl = IMPLEMENTATIONS[policy.algorithm]
      const step = impl.decide(asState(this.map.get(stateKey(base, i, policy, impl.code))), now, cost, policy)
      steps.push(step)
      if (!step.allowed) all = false
    }
    const out: PolicyOutcome[] = []
    for (const [i, policy] of policies.entries()) {
      const step = steps[i]
      const blocked = blocks[i] as number
      if (step === undefined) {
        out.push({ allowed: false, remaining: 0, resetMs: blocked, retryAfterMs: blocked, blocked: true })
        continue
      }
      const impl = IMPLEMENTATIONS[policy.algorithm]
      const key = stateKey(base, i, policy, impl.code)
      if (mode === 'consume' && all) {
        if (cost > 0) this.map.set(key, step.next, step.ttlMs)
        out.push({ ...report(step), blocked: false })
      } else if (mode === 'consume' && !step.allowed && policy.blockMs > 0) {
        this.map.set(blockKey(base, i), now + policy.blockMs, policy.blockMs)
        const wait = Math.max(step.retryAfterMs, policy.blockMs)
        out.push({
          ...report(step),
          resetMs: Math.max(step.resetMs, wait),
          retryAfterMs: wait,
          blocked: true,
        })
      } else {
        // Nothing is spent: report the allowance as it stands, and whether this cost would pass.
        const current = impl.decide(asState(this.map.get(key)), now, 0, policy)
        out.push({
          allowed: step.allowed,
          remaining: current.remaining,
          resetMs: current.resetMs,
          retryAfterMs: step.retryAfterMs,
          blocked: false,
        })
      }
    }
    return out
  }

  async adjust(base: string, policies: readonly Policy[], points: number): Promise<void> {
    this.adjustNow(base, policies, points)
  }

  /** A reward (`points` < 0) or a penalty (> 0) on every policy; blocks are left as they are. */
  adjustNow(base: string, policies: readonly Policy[], points: number): void {
    const now = Math.floor(this.clock.now())
    for (const [i, policy] of policies.entries()) {
      const impl = IMPLEMENTATIONS[policy.algorithm]
      const key = stateKey(base, i, policy, impl.code)
      const { next, ttlMs } = impl.adjust(asState(this.map.get(key)), now, points, policy)
      if (ttlMs > 0) this.map.set(key, next, Math.ceil(ttlMs))
      else this.map.delete(key)
    }
  }

  async block(base: string, ms: number): Promise<void> {
    this.map.set(manualBlockKey(base), Math.floor(this.clock.now()) + ms, ms)
  }

  async reset(base: string, policies: readonly Policy[]): Promise<void> {
    this.map.delete(manualBlockKey(base))
    for (const [i, policy] of policies.entries()) {
      this.map.delete(stateKey(base, i, policy, IMPLEMENTATIONS[policy.algorithm].code))
      this.map.delete(blockKey(base, i))
    }
  }
}

function report(step: Step): Omit<PolicyOutcome, 'blocked'> {
  return {
    allowed: step.allowed,
    remaining: step.remaining,
    resetMs: step.resetMs,
    retryAfterMs: step.retryAfterMs,
  }
}
