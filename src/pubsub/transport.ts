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

/** Durable retention, resolved: a length bound, an age bound, or both. */
export interface Retention {
  readonly maxLen: number | undefined
  readonly retentionMs: number | undefined
}

/** Runs tasks one after another; a failed task does not stop the next. */
export class Serial {
  #tail: Promise<void> = Promise.resolve()

  run(task: () => Promise<void>, onError: (error: unknown) => void): Promise<void> {
    const next = this.#tail.then(task).catch(onError)
    this.#tail = next
    return next
  }
}
