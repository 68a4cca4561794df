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
import { DecisionBatcher, type PendingDecision, settle } from './batcher.js'
import { adjustScript, rateScript } from './lua/index.js'
import type { Policy } from './rules.js'
import { manualBlockKey, type RateWriter } from './writer.js'

/** The most decisions sent in one script call: the server runs a script without interruption. */
const MAX_BATCH = 64

/**
 * Decisions in Redis: every policy of a request, block included, in one script call; and the
 * decisions of one scope requested in the same tick share that call (up to {@link MAX_BATCH}), each
 * decided in turn inside the atomic script, so under load a decision costs less than one round
 * trip. On a Cluster (or before the topology is known) a call carries one decision, whose keys
 * share a slot.
 */
export class RedisRateBackend implements RateBackend, RateWriter {
  /** Script calls made, for benchmarks and tests (round trips per decision). */
  calls = 0
  /** Decisions made, for the same accounting. */
  decisions = 0
  /** The script for each scope's policy list (fixed arrays), so a decision does no lookup work. */
  readonly #scripts = new WeakMap<readonly Policy[], Script>()
  readonly #batcher = new DecisionBatcher(MAX_BATCH, (policies, waiting) => this.#send(policies, waiting))

  constructor(readonly runner: ScriptRunner) {}

  decide(base: string, policies: readonly Policy[], cost: number, mode: Mode): Promise<PolicyOutcome[]> {
    this.decisions++
    // On a Cluster (or before the topology is known) a call carries one decision: its keys share a slot.
    return this.#batcher.add(base, policies, cost, mode, this.runner.anySlot !== true)
  }

  #send(policies: readonly Policy[], waiting: readonly PendingDecision[]): void {
    const keys: string[] = []
    const args: (string | number)[] = [policies.length, waiting.length]
    const codes = policies.map((policy) => IMPLEMENTATIONS[policy.algorithm].code)
    for (const [i, policy] of policies.entries()) {
      args.push(codes[i] as string, policy.limit, policy.windowMs, policy.burst, policy.blockMs)
    }
    for (const w of waiting) {
      args.push(w.mode === 'consume' ? 'c' : 'p', w.cost)
      for (const [i, policy] of policies.entries()) {
        keys.push(stateKey(w.base, i, policy, codes[i] as string), blockKey(w.base, i))
      }
      keys.push(manualBlockKey(w.base))
    }
    this.calls++
    let script = this.#scripts.get(policies)
    if (!script) this.#scripts.set(policies, (script = rateScript(policies.map((p) => p.algorithm))))
    const per = policies.length * 5
    settle(
      waiting,
      this.runner.run(script, keys, args).then((reply) => {
        if (!Array.isArray(reply) || reply.length !== per * waiting.length) {
          throw new Error(`unexpected reply from the rate limit script: ${String(reply)}`)
        }
        return waiting.map((_, j) => outcomes(reply, j * per, policies.length))
      }),
    )
  }

  async adjust(base: string, policies: readonly Policy[], points: number): Promise<void> {
    const keys: string[] = []
    const args: (string | number)[] = [policies.length, points]
    for (const [i, policy] of policies.entries()) {
      const code = IMPLEMENTATIONS[policy.algorithm].code
      keys.push(stateKey(base, i, policy, code))
      args.push(code, policy.limit, policy.windowMs, policy.burst)
    }
    this.calls++
    await this.runner.run(adjustScript(policies.map((p) => p.algorithm)), keys, args)
  }

  async block(base: string, ms: number): Promise<void> {
    this.calls++
    await this.runner.run(BLOCK_SCRIPT, [manualBlockKey(base)], [ms])
  }

  async reset(base: string, policies: readonly Policy[]): Promise<void> {
    const keys: string[] = []
    for (const [i, policy] of policies.entries()) {
      keys.push(stateKey(base, i, policy, IMPLEMENTATIONS[policy.algorithm].code), blockKey(base, i))
    }
    keys.push(manualBlockKey(base))
    this.calls++
    await this.runner.run(DELETE_SCRIPT, keys, [])
  }
}

function outcomes(reply: readonly unknown[], from: number, count: number): PolicyOutcome[] {
  const out: PolicyOutcome[] = []
  for (let i = 0; i < count; i++) {
    const at = from + i * 5
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

const DELETE_SCRIPT = script(
  'cachekit-ratelimit-reset',
  `for _, k in ipairs(KEYS) do redis.call('DEL', k) end
return #KEYS`,
)

const BLOCK_SCRIPT = script(
  'cachekit-ratelimit-block',
  `redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1`,
)
