import { InvalidOptionError } from '../errors.js'
import { type Duration, requireTimeout, wholeMs } from '../internal/index.js'
import type { Channel } from './channel.js'
import { parseEventId } from './ids.js'

/** Options of an SSE event stream over a channel: heartbeat, resume, and how to write each message. */
export interface EventStreamOptions<T> {
  /** A comment line this often keeps proxies from closing an idle stream. Default `'15s'`. */
  readonly heartbeat?: Duration
  /** The `event:` name of each message; none by default (the browser's `message` event). */
  readonly event?: string
  /** Turns a message into the `data:` text. Default: JSON, with BigInt as a string, Map as an object, Set as an array. */
  readonly format?: (message: T) => string
  /** The reconnection delay the browser is told (`retry:`). Default `'1s'`. */
  readonly retry?: Duration
  /**
   * A client that has this many bytes unsent is cut off (it reconnects and, on a durable channel,
   * resumes with `Last-Event-ID`), so a stalled reader cannot grow the server's memory. Default 1 MiB.
   */
  readonly maxBufferedBytes?: number
}

/** Where an event stream writes: a framework adapter gives the response's socket side. */
export interface EventSink {
  write(text: string): void
  /** Bytes written but not yet sent to the client. */
  buffered(): number
  /** Ends the response. */
  end(): void
}

/** A stream being served; `close()` (on client disconnect) unsubscribes and stops the heartbeat. */
export interface EventStream {
  close(): Promise<void>
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  return value
}

const defaultFormat = (message: unknown): string => JSON.stringify(message, replacer) ?? 'null'

/** Checks options once, when the route is set up, so a mistake fails at startup. */
export function resolveEventStreamOptions<T>(
  options: EventStreamOptions<T> = {},
): Required<EventStreamOptions<T>> {
  const event = options.event ?? ''
  if (/[\r\n]/.test(event)) throw new InvalidOptionError('event stream "event" must be one line')
  const retry = wholeMs(options.retry, '1s', 'event stream retry', { min: 1 })
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
  if (!Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes < 1) {
    throw new InvalidOptionError(
      `event stream maxBufferedBytes must be a whole number >= 1, got ${String(maxBufferedBytes)}`,
    )
  }
  return {
    heartbeat: requireTimeout(options.heartbeat ?? '15s', 'heartbeat'),
    event,
    format: options.format ?? defaultFormat,
    retry,
    maxBufferedBytes,
  }
}

/** The response headers of an event stream. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx buffers responses unless told otherwise; an event stream must flow.
  'x-accel-buffering': 'no',
}

/**
 * Serves `channel` as Server-Sent Events into `sink`. On a durable channel every event carries
 * its stream id (`id:`), and a client's `Last-Event-ID` resumes after it, so a reconnecting browser
 * gets what it missed within the retention. An unreadable `Last-Event-ID` starts from now.
 */
export function openEventStream<T>(
  channel: Channel<T>,
  lastEventId: string | undefined,
  options: Required<EventStreamOptions<T>>,
  sink: EventSink,
): EventStream {
  let closed = false
  let since: string | undefined
  if (channel.durable && lastEventId !== undefined) {
    try {
      since = parseEventId(lastEventId.trim())
    } catch {}
  }
  const prefix = options.event ? `event: ${options.event}\n` : ''
  sink.write(`retry: ${options.retry}\n: connected\n\n`)
  const heartbeat = setInterval(() => sink.write(': ping\n\n'), Number(options.heartbeat))
  heartbeat.unref()
  let close: () => Promise<void> = async () => {}
  const stream: EventStream = {
    close: async () => {
      if (closed) return
      closed = true
      clearInterval(heartbeat)
      sink.end()
      await close()
    },
  }
  const subscribed = channel.subscribe(
    (message, { id }) => {
      if (closed) return
      const data = options
        .format(message)
        .split(/\r\n|\r|\n/)
        .map((line) => `data: ${line}\n`)
        .join('')
      sink.write(`${id === undefined ? '' : `id: ${id}\n`}${prefix}${data}\n`)
      if (sink.buffered() > options.maxBufferedBytes) void stream.close()
    },
    since === undefined ? {} : { since },
  )
  subscribed.then(
    (unsubscribe) => {
      if (closed) return void unsubscribe()
      close = unsubscribe
    },
    // The store could not subscribe (Redis down): end the response; the browser retries.
    () => void stream.close(),
  )
  return stream
}
