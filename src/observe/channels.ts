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
