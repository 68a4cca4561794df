import { CacheClosedError } from '../../errors.js'
import { within } from '../../internal/index.js'
import type {
  BufferListener,
  PubSubConnection,
  RedisDriver,
  SubscriptionStatus,
  Unsubscribe,
} from './driver.js'

/** Live and pending subscriptions of a store, for `stats()`. */
export interface SubscriptionCounts {
  /** Acknowledged by the server and on a connection that is up now. */
  readonly live: number
  /** Not (or no longer) live: waiting for the connection, or retrying a refused SUBSCRIBE. */
  readonly pending: number
}

interface Entry {
  readonly channel: string
  readonly listener: BufferListener
  readonly status: SubscriptionStatus
  /** SSUBSCRIBE on the node owning the channel's slot (Cluster) rather than SUBSCRIBE. */
  readonly sharded: boolean
  /** SUBSCRIBE acknowledged: the client re-subscribes it by itself after a reconnect. */
  subscribed: boolean
  /** What `status` was last told. */
  up: boolean
  attempting: boolean
  removed: boolean
  delay: number
  timer: NodeJS.Timeout | undefined
}

/** The longest an unsubscribe waits for the server to acknowledge it. */
const UNSUBSCRIBE_WAIT_MS = 100
const FIRST_DELAY = 25
const MAX_DELAY = 1000

/**
 * Every pub/sub subscription of one store (invalidation bus, lease notifications, rate-limit deny
 * cache), on one shared pub/sub connection. A subscription is registered at once and retried with
 * backoff on the same connection until the server acknowledges it, so a refusal (an ACL user
 * without channel access) costs a command per retry, never a connection; `status.up()` is called
 * only once it is live. Retry timers are unref'd and cleared by {@link close}.
 */
export class Subscriptions {
  readonly #driver: () => RedisDriver | undefined
  readonly #entries = new Set<Entry>()
  #connection: PubSubConnection | undefined
  #closed = false
  /** The pub/sub connection is up. */
  #connected = false
  /**
   * The store's circuit is closed. A hung server keeps the pub/sub socket open while it delivers
   * nothing, so a subscription counts as live only while the store's calls succeed too.
   */
  #healthy: boolean

  constructor(
    driver: () => RedisDriver | undefined,
    health: { healthy: boolean; onHealth(listener: (healthy: boolean) => void): void },
  ) {
    this.#driver = driver
    this.#healthy = health.healthy
    health.onHealth((healthy) => {
      this.#healthy = healthy
      this.#refresh()
    })
  }

  get counts(): SubscriptionCounts {
    let live = 0
    for (const entry of this.#entries) if (entry.up) live++
    return { live, pending: this.#entries.size - live }
  }

  /**
   * Registers a subscription and starts making it live; the returned function ends it. `sharded`
   * subscribes with SSUBSCRIBE (only where the driver has `sharded`).
   */
  add(channel: string, listener: BufferListener, status: SubscriptionStatus, sharded = false): Unsubscribe {
    if (this.#closed) throw new CacheClosedError('This Redis store was closed; create a new one')
    const entry: Entry = {
      channel,
      listener,
      status,
      sharded,
      subscribed: false,
      up: false,
      attempting: false,
      removed: false,
      delay: FIRST_DELAY,
      timer: undefined,
    }
    this.#entries.add(entry)
    void this.#attempt(entry)
    return async () => {
      if (entry.removed) return
      entry.removed = true
      clearTimeout(entry.timer)
      this.#entries.delete(entry)
      const connection = this.#connection
      // A sharded attempt that failed may have left its listener on a connection that was down.
      if ((entry.subscribed || entry.sharded) && connection) {
        // The listener is dropped locally at once; the server's acknowledgement is not worth
        // waiting for on a hung server (a tiered cache's close() awaits this).
        await within(
          connection.unsubscribe(entry.channel, entry.listener, entry.sharded).catch(() => {}),
          UNSUBSCRIBE_WAIT_MS,
        )
      }
    }
  }

  /** Stops every retry and closes the pub/sub connection, whatever its state. */
  async close(): Promise<void> {
    this.#closed = true
    for (const entry of this.#entries) {
      entry.removed = true
      clearTimeout(entry.timer)
    }
    this.#entries.clear()
    await this.#connection?.close()
  }

  #pubsub(): PubSubConnection | undefined {
    if (this.#connection) return this.#connection
    const driver = this.#driver()
    if (driver === undefined) return undefined
    const connection = driver.pubsub()
    this.#connection = connection
    this.#connected = connection.ready
    connection.onStatus((up) => this.#onStatus(up))
    connection.onLost?.((channel, listener) => this.#onLost(channel, listener))
    return connection
  }

  #onStatus(up: boolean): void {
    if (this.#closed) return
    this.#connected = up
    this.#refresh()
    if (!up) return
    for (const entry of this.#entries) {
      if (entry.subscribed) continue
      // The connection came (back): try now rather than at the end of the backoff.
      clearTimeout(entry.timer)
      entry.timer = undefined
      void this.#attempt(entry)
    }
  }

  /** A sharded subscription's node went away: down until it is subscribed again on the new owner. */
  #onLost(channel: string, listener: BufferListener): void {
    if (this.#closed) return
    for (const entry of this.#entries) {
      if (entry.channel !== channel || entry.listener !== listener || !entry.subscribed) continue
      entry.subscribed = false
      this.#tell(entry, false)
      void this.#attempt(entry)
    }
  }

  /** Tells every subscription whether it is live now. */
  #refresh(): void {
    if (this.#closed) return
    for (const entry of this.#entries) this.#tell(entry, this.#live(entry))
  }

  #live(entry: Entry): boolean {
    return entry.subscribed && this.#connected && this.#healthy
  }

  async #attempt(entry: Entry): Promise<void> {
    if (this.#closed || entry.removed || entry.attempting || entry.subscribed) return
    const connection = this.#pubsub()
    if (connection === undefined || !connection.ready) {
      this.#later(entry)
      return
    }
    entry.attempting = true
    try {
      await connection.subscribe(entry.channel, entry.listener, entry.sharded)
      entry.attempting = false
      if (this.#closed || entry.removed) {
        await connection.unsubscribe(entry.channel, entry.listener, entry.sharded).catch(() => {})
        return
      }
      entry.subscribed = true
      entry.delay = FIRST_DELAY
      this.#connected ||= connection.ready
      this.#tell(entry, this.#live(entry))
    } catch {
      entry.attempting = false
      this.#tell(entry, false)
      this.#later(entry)
    }
  }

  #later(entry: Entry): void {
    if (this.#closed || entry.removed || entry.timer !== undefined) return
    entry.timer = setTimeout(() => {
      entry.timer = undefined
      void this.#attempt(entry)
    }, entry.delay)
    entry.timer.unref()
    entry.delay = Math.min(entry.delay * 2, MAX_DELAY)
  }

  #tell(entry: Entry, up: boolean): void {
    if (entry.up === up) return
    entry.up = up
    try {
      if (up) entry.status.up()
      else entry.status.down()
    } catch {}
  }
}
