import { IMPLEMENTATIONS } from './algorithms/index.js'
import {
  blockKey,
  type Mode,
  type PolicyOutcome,
  type RateBackend,
  type Script,
  type ScriptRunner,
  script,
  stateKey,
} from './backend.js'
import { rateScript } from './lua/rate.js'
import type { Policy } from './rules.js'

/** Decisions in Redis: one EVALSHA per request, whatever the number of policies, block included. */
export class RedisRateBackend implements RateBackend {
  /** Script calls made, for benchmarks and tests (round trips per decision). */
  calls = 0
  /** The script for each scope's policy list (fixed arrays), so a decision does no lookup work. */
  readonly #scripts = new WeakMap<readonly Policy[], Script>()

  constructor(readonly runner: ScriptRunner) {}

  async decide(
    base: string,
    policies: readonly Policy[],
    cost: number,
    mode: Mode,
  ): Promise<PolicyOutcome[]> {
    const keys: string[] = []
    const args: (string | number)[] = [mode === 'consume' ? 'c' : 'p', cost, policies.length]
    for (const [i, policy] of policies.entries()) {
      const impl = IMPLEMENTATIONS[policy.algorithm]
      keys.push(stateKey(base, i, policy, impl.code), blockKey(base, i))
      args.push(impl.code, policy.limit, policy.windowMs, policy.burst, policy.blockMs)
    }
    this.calls++
    let script = this.#scripts.get(policies)
    if (!script) this.#scripts.set(policies, (script = rateScript(policies.map((p) => p.algorithm))))
    const reply = await this.runner.run(script, keys, args)
    if (!Array.isArray(reply) || reply.length !== policies.length * 5) {
      throw new Error(`unexpected reply from the rate limit script: ${String(reply)}`)
    }
    const out: PolicyOutcome[] = []
    for (let i = 0; i < policies.length; i++) {
      const at = i * 5
      out.push({
        allowed: Number(reply[at]) === 1,
        remaining: Number(reply[at + 1]),
        resetMs: Number(reply[at + 2]),
        retryAfterMs: Number(reply[at + 3]),
        blocked: Number(reply[at + 4]) === 1,
      })
    }
    return out
  }

  async reset(base: string, policies: readonly Policy[]): Promise<void> {
    const keys: string[] = []
    for (const [i, policy] of policies.entries()) {
      keys.push(stateKey(base, i, policy, IMPLEMENTATIONS[policy.algorithm].code), blockKey(base, i))
    }
    this.calls++
    await this.runner.run(DELETE_SCRIPT, keys, [])
  }
}

const DELETE_SCRIPT = script(
  'cachekit-ratelimit-reset',
  `for _, k in ipairs(KEYS) do redis.call('DEL', k) end
return #KEYS`,
)
