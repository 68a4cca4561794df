import { AsyncLocalStorage } from 'node:async_hooks'
import diagnostics from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { InvalidOptionError } from '../errors.js'
import { CHANNELS } from '../observe/index.js'

/** Options of the `cacheAccounting()` middleware of each framework door. */
export interface CacheAccountingOptions {
  /** Header names. Defaults: `X-Cache-Hits`, `X-Cache-Misses`, `X-Response-Time`. `false` leaves one out. */
  readonly headers?: {
    readonly hits?: string | false
    readonly misses?: string | false
    readonly responseTime?: string | false
  }
  /** Called once per request with its counts, when the response headers go out (for logs). */
  readonly onRequest?: (counts: RequestCacheCounts) => void
}

/** What one request's cache calls came to. */
export interface RequestCacheCounts {
  readonly hits: number
  readonly misses: number
  /** From the start of the middleware to the moment the response headers are written, in ms. */
  readonly responseTimeMs: number
}

/** The counts of the request being served; mutable while it runs. */
interface Tally {
  hits: number
  misses: number
  readonly start: number
}

const storage = new AsyncLocalStorage<Tally>()
/** Middlewares mounted now: the channels are subscribed only while one is. */
let mounted = 0

function onHit(): void {
  const tally = storage.getStore()
  if (tally) tally.hits++
}

function onMiss(): void {
  const tally = storage.getStore()
  if (tally) tally.misses++
}

function subscribe(): void {
  if (mounted++ > 0) return
  diagnostics.subscribe(CHANNELS.hit, onHit)
  diagnostics.subscribe(CHANNELS.miss, onMiss)
}

/** One request's accounting: run the rest of the request in it, read its headers at the end. */
export interface RequestAccount {
  /** Runs the rest of the request inside this tally. */
  run<T>(next: () => T): T
  /** The headers for this request's tally so far (call just before the headers go out). */
  headers(): Array<readonly [string, string]>
}

/** The framework-neutral part of the accounting middlewares (one per door). */
export interface Accounting {
  /** Starts the accounting of one request. */
  begin(): RequestAccount
  /** Stops counting for this middleware (the channels are left once no middleware counts). */
  close(): void
}

function headerName(value: string | false | undefined, fallback: string, what: string): string | undefined {
  if (value === false) return undefined
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    throw new InvalidOptionError(`cacheAccounting headers.${what} must be a header name or false`)
  }
  return value
}

/**
 * Request-scoped cache accounting: every cache hit and miss published on `cachekit:hit` and
 * `cachekit:miss` while a request is served (in its async context, through AsyncLocalStorage) is
 * counted for that request alone, however many requests overlap.
 */
export function createAccounting(options: CacheAccountingOptions = {}): Accounting {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('cacheAccounting options must be an object')
  }
  const names = {
    hits: headerName(options.headers?.hits, 'X-Cache-Hits', 'hits'),
    misses: headerName(options.headers?.misses, 'X-Cache-Misses', 'misses'),
    time: headerName(options.headers?.responseTime, 'X-Response-Time', 'responseTime'),
  }
  const { onRequest } = options
  if (onRequest !== undefined && typeof onRequest !== 'function') {
    throw new InvalidOptionError('cacheAccounting onRequest must be a function (counts) => void')
  }
  subscribe()
  let open = true
  return {
    begin() {
      const tally: Tally = { hits: 0, misses: 0, start: performance.now() }
      let done = false
      return {
        run: (next) => storage.run(tally, next),
        headers() {
          if (!open) return []
          const responseTimeMs = performance.now() - tally.start
          const out: Array<readonly [string, string]> = []
          if (names.hits) out.push([names.hits, String(tally.hits)])
          if (names.misses) out.push([names.misses, String(tally.misses)])
          if (names.time) out.push([names.time, `${responseTimeMs.toFixed(3)}ms`])
          if (!done) {
            done = true
            try {
              onRequest?.({ hits: tally.hits, misses: tally.misses, responseTimeMs })
            } catch {}
          }
          return out
        },
      }
    },
    close() {
      if (!open) return
      open = false
      if (--mounted > 0) return
      diagnostics.unsubscribe(CHANNELS.hit, onHit)
      diagnostics.unsubscribe(CHANNELS.miss, onMiss)
    },
  }
}
