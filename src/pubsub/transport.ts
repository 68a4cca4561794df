import { ChannelOverflowError } from './errors.js'

/**
 * What a channel needs from the store below it. A transport delivers each subscription's messages
 * one at a time, in publish order per publisher, and calls `deliver` again only after the previous
 * call settled (so an async handler gets backpressure and the order holds).
 */
export interface Transport {
  /** Publishes encoded bytes; resolves to the stream id for a durable channel. */
  publish(bytes: Uint8Array): Promise<string | undefined>
  /**
   * Registers a subscription. For a durable channel, messages after `since` (or after the stream's
   * tail when the call resolves) are delivered, including those published while disconnected.
   */
  subscribe(sink: Sink, since: string | undefined): Promise<() => Promise<void>>
}

export interface Sink {
  deliver(bytes: Uint8Array, id: string | undefined): Promise<void>
  /** A failure in the background (catch-up read, decode); the subscription carries on. */
  error(error: unknown): void
}

/** How a channel's subscriptions queue: at most this many messages wait per subscription. */
export interface Queueing {
  readonly maxPending: number
  readonly name: string
}

/** Durable retention, resolved: a length bound, an age bound, or both. */
export interface Retention {
  readonly maxLen: number | undefined
  readonly retentionMs: number | undefined
}

/**
 * Runs one subscription's tasks one after another; a failed task does not stop the next. At most
 * `max` tasks wait: beyond that a message is dropped and the overflow reported once per burst, so
 * a handler slower than its publishers cannot grow memory without bound.
 */
export class Serial {
  #tail: Promise<void> = Promise.resolve()
  #pending = 0
  #dropping = false

  constructor(
    readonly max: number,
    readonly name: string,
  ) {}

  /** Queues `task`; false when it was dropped. `force` queues it whatever the backlog (catch-up reads). */
  run(task: () => Promise<void>, onError: (error: unknown) => void, force = false): boolean {
    if (!force && this.#pending >= this.max) {
      if (!this.#dropping) {
        this.#dropping = true
        onError(
          new ChannelOverflowError(
            `A subscriber of channel "${this.name}" is more than ${this.max} messages behind; messages are dropped until it catches up (a durable Redis channel reads them again from the stream). Handle faster or raise maxPending`,
          ),
        )
      }
      return false
    }
    this.#pending++
    this.#tail = this.#tail
      .then(task)
      .catch(onError)
      .finally(() => {
        if (--this.#pending === 0) this.#dropping = false
      })
    return true
  }
}
