import type { Mode, PolicyOutcome } from './backend.js'
import type { Policy } from './rules.js'

/** One decision waiting for its batch's answer. */
export interface PendingDecision {
  readonly base: string
  readonly cost: number
  readonly mode: Mode
  readonly resolve: (outcomes: PolicyOutcome[]) => void
  readonly reject: (error: unknown) => void
}

/**
 * Gathers the decisions of one scope (one policy list) asked in the same tick into batches of at
 * most `max`, and hands each batch to `send` once the tick's synchronous work is done: the Redis
 * backend decides a batch in one script call, the SQL backend in one transaction.
 */
export class DecisionBatcher {
  /** Batches still filling in this tick, by scope policy list. */
  readonly #filling = new Map<readonly Policy[], PendingDecision[]>()

  constructor(
    private readonly max: number,
    private readonly send: (policies: readonly Policy[], waiting: PendingDecision[]) => void,
  ) {}

  /** Queues one decision; `alone` sends it by itself at once (no batching possible). */
  add(
    base: string,
    policies: readonly Policy[],
    cost: number,
    mode: Mode,
    alone = false,
  ): Promise<PolicyOutcome[]> {
    return new Promise((resolve, reject) => {
      const waiting: PendingDecision = { base, cost, mode, resolve, reject }
      if (alone) {
        this.send(policies, [waiting])
        return
      }
      let batch = this.#filling.get(policies)
      if (batch === undefined || batch.length >= this.max) {
        const fresh: PendingDecision[] = []
        batch = fresh
        this.#filling.set(policies, fresh)
        queueMicrotask(() => {
          if (this.#filling.get(policies) === fresh) this.#filling.delete(policies)
          this.send(policies, fresh)
        })
      }
      batch.push(waiting)
    })
  }
}

/** Answers every decision of a batch from `outcomes` (one list per decision, in order), or fails them all. */
export function settle(waiting: readonly PendingDecision[], outcomes: Promise<PolicyOutcome[][]>): void {
  outcomes.then(
    (lists) => {
      for (const [j, w] of waiting.entries()) w.resolve(lists[j] as PolicyOutcome[])
    },
    (error: unknown) => {
      for (const w of waiting) w.reject(error)
    },
  )
}
