import diagnostics from 'node:diagnostics_channel'

/**
 * cachekit publishes what happens on `node:diagnostics_channel`, so exporters (Prometheus,
 * OpenTelemetry, logs) subscribe without hooks in the core, and a cache with no subscriber pays
 * one boolean check per event. Every message is a {@link CacheEvent}.
 *
 * ```ts
 * import diagnostics from 'node:diagnostics_channel'
 * diagnostics.subscribe('cachekit:miss', (event) => console.log('miss', event.key))
 * ```
 */
export const CHANNELS = {
  hit: 'cachekit:hit',
  miss: 'cachekit:miss',
  set: 'cachekit:set',
  delete: 'cachekit:delete',
  error: 'cachekit:error',
  stale: 'cachekit:stale',
  coalesce: 'cachekit:coalesce',
  factory: 'cachekit:factory',
} as const

export type CacheEventType = keyof typeof CHANNELS

export interface CacheEvent {
  readonly type: CacheEventType
  /** The root cache's prefix (empty string for none). */
  readonly prefix: string
  /** The namespace path below the prefix (`'user'`, `'user:settings'`), empty for the root. */
  readonly namespace: string
  /** The key as the caller wrote it, when the event concerns one. */
  readonly key?: string | undefined
  /** For `error`: what failed. For `factory`: the error if the factory failed. */
  readonly error?: unknown
  /** For `error`: the operation that failed (`'get'`, `'set'`, `'decode'`, `'refresh'`, ...). */
  readonly operation?: string | undefined
  /** For `factory`: how long it ran, in milliseconds. */
  readonly durationMs?: number | undefined
}

export const channel = {
  hit: diagnostics.channel(CHANNELS.hit),
  miss: diagnostics.channel(CHANNELS.miss),
  set: diagnostics.channel(CHANNELS.set),
  delete: diagnostics.channel(CHANNELS.delete),
  error: diagnostics.channel(CHANNELS.error),
  stale: diagnostics.channel(CHANNELS.stale),
  coalesce: diagnostics.channel(CHANNELS.coalesce),
  factory: diagnostics.channel(CHANNELS.factory),
} satisfies Record<CacheEventType, diagnostics.Channel>

/**
 * A degraded answer: the library answered, but not the way it would with every part healthy (an
 * ignored store error, a local rate-limit decision while the shared store is out, a fallback read,
 * a wait for the first connection). Published on `cachekit:degraded`; counted by the component in
 * its `stats()`, and logged once per burst by {@link BurstLog}.
 */
export interface DegradedEvent {
  readonly type: 'degraded'
  /** The component that degraded: `'redis'`, `'sql'`, `'ratelimit'`, `'fallback'`, `'bus'`, `'leases'`... */
  readonly source: string
  /** What it did instead: `'ignored-error'`, `'local-decision'`, `'fallback-read'`, `'startup-wait'`... */
  readonly kind: string
  /** The operation concerned (`'get'`, `'consume'`...), when there is one. */
  readonly operation?: string | undefined
  /** Why, with any secret already removed. */
  readonly reason?: string | undefined
}

export const DEGRADED_CHANNEL = 'cachekit:degraded'
const degradedChannel = diagnostics.channel(DEGRADED_CHANNEL)

/** Publishes a {@link DegradedEvent}; costs one boolean check when nobody listens. */
export function publishDegraded(event: Omit<DegradedEvent, 'type'>): void {
  if (degradedChannel.hasSubscribers) degradedChannel.publish({ type: 'degraded', ...event })
}

/** What a {@link BurstLog} writes: one line when trouble starts, one when it ends. */
export interface BurstLogEvent {
  readonly level: 'warn' | 'info'
  readonly message: string
}

/**
 * Logs the first failure of a burst and the recovery after it, and counts what lies between, so a
 * dead server produces two log lines rather than one per call. A throwing log sink is ignored.
 */
export class BurstLog {
  #failed = 0
  readonly #log: (event: BurstLogEvent) => void

  constructor(log: (event: BurstLogEvent) => void) {
    this.#log = log
  }

  /** Failures since the burst began (0 when healthy). */
  get failed(): number {
    return this.#failed
  }

  failure(message: string): void {
    if (this.#failed++ === 0) this.#emit({ level: 'warn', message })
  }

  recovered(message: (failed: number) => string): void {
    if (this.#failed === 0) return
    const failed = this.#failed
    this.#failed = 0
    this.#emit({ level: 'info', message: message(failed) })
  }

  #emit(event: BurstLogEvent): void {
    try {
      this.#log(event)
    } catch {}
  }
}
