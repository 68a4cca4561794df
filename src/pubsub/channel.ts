import { type Codec, createCodec } from '../codec/index.js'
import { InvalidOptionError } from '../errors.js'
import { type Duration, requireDuration } from '../internal/index.js'
import { backingOf } from '../stores/index.js'
import { ChannelOverflowError } from './errors.js'
import { parseEventId } from './ids.js'
import { memoryTransport } from './memory.js'
import { type PubSubStore, redisTransport } from './redis.js'
import type { Retention, Transport } from './transport.js'

/** Keep a durable channel's recent messages: up to `maxLen` of them, for up to `retention`, or both. */
export interface DurableOptions {
  /** About this many recent messages are kept (Redis trims by whole nodes: `MAXLEN ~`). */
  readonly maxLen?: number
  /** Messages older than this are dropped; an idle channel's stream expires after it. */
  readonly retention?: Duration
}

/** Options of `createChannel`: the transport, name, codec and, for durable channels, the history kept. */
export interface ChannelOptions {
  /** A memory store (in-process channels) or a Redis store (pub/sub, and Streams when durable). */
  readonly store: object
  /** How messages are encoded; default `createCodec()` (Date, Map, Set, BigInt... survive). */
  readonly codec?: Codec
  /** Keep recent messages so a subscriber that was away, or an SSE client, can catch up. */
  readonly durable?: DurableOptions
  /** Prefix of the Redis pub/sub channel and stream key. Default `'cachekit:channel:'`. */
  readonly prefix?: string
  /**
   * The most messages waiting for one subscription's handler; beyond it messages are dropped and
   * `ChannelOverflowError` is reported once per burst (a durable Redis subscriber reads them again
   * from the stream). Default 10,000.
   */
  readonly maxPending?: number
  /** Hears handler errors, undecodable messages, overflows and failed catch-up reads. Default `console.error`. */
  readonly onError?: (error: unknown) => void
}

/** How a message arrived: its stream id on a durable channel, else `undefined`. */
export interface MessageMeta {
  readonly id: string | undefined
}

/** One message, as `messages()` yields it. */
export interface ChannelMessage<T> extends MessageMeta {
  readonly data: T
}

/** Options of `channel.subscribe`: where to resume a durable channel. */
export interface SubscribeOptions {
  /** Durable channels: deliver what came after this id first (e.g. an SSE `Last-Event-ID`). */
  readonly since?: string
}

/** Options of `channel.messages()`: where to resume and the signal that ends the iteration. */
export interface MessagesOptions extends SubscribeOptions {
  /** Ends the iteration. */
  readonly signal?: AbortSignal
  /** More unread messages than this end the iteration with `ChannelOverflowError`. Default 1000. */
  readonly maxBuffered?: number
}

/** Ends a subscription; resolves once the store let go of it. */
export type Unsubscribe = () => Promise<void>

/** A typed pub/sub channel. Messages from one publisher arrive in the order it published them. */
export interface Channel<T> {
  readonly name: string
  readonly durable: boolean
  /** Encodes and publishes; resolves to the message's stream id on a durable channel. */
  publish(message: T): Promise<string | undefined>
  /**
   * Calls `handler` for each message, one at a time (an async handler is awaited before the next).
   * On Redis, the subscription goes live shortly after this resolves; a durable subscription
   * receives every message published after it resolved, reconnects included.
   */
  subscribe(
    handler: (message: T, meta: MessageMeta) => unknown,
    options?: SubscribeOptions,
  ): Promise<Unsubscribe>
  /** The same as an async iterator; `break`, `return()` or the signal unsubscribes. */
  messages(options?: MessagesOptions): AsyncIterableIterator<ChannelMessage<T>>
}

const NAME = /^[^\s{}]{1,200}$/

function resolveRetention(durable: DurableOptions | undefined): Retention | undefined {
  if (durable === undefined) return undefined
  const { maxLen, retention } = durable
  if (maxLen !== undefined && (!Number.isSafeInteger(maxLen) || maxLen < 1)) {
    throw new InvalidOptionError(`channel durable.maxLen must be a whole number >= 1, got ${String(maxLen)}`)
  }
  const retentionMs = retention === undefined ? undefined : requireDuration(retention, 'durable.retention')
  if (retentionMs === 0) throw new InvalidOptionError('channel durable.retention must be more than 0')
  if (maxLen === undefined && retentionMs === undefined) {
    throw new InvalidOptionError("channel durable needs a bound: { maxLen: 10_000 } or { retention: '1h' }")
  }
  return { maxLen, retentionMs }
}

function isRedis(store: object): store is PubSubStore {
  const s = store as Partial<PubSubStore>
  return typeof s.channel === 'function' && typeof s.scriptRunner === 'function'
}

/**
 * A typed channel named `name` on `store`. Values go through the codec, so what a subscriber
 * gets equals what was published, `Date`, `Map`, `BigInt` and all. Memory channels reach
 * subscribers of the same store object in this process; Redis channels reach every process.
 */
export function channel<T>(name: string, options: ChannelOptions): Channel<T> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidOptionError(
      `Channel name ${JSON.stringify(String(name)).slice(0, 60)} is invalid: use 1-200 characters without spaces or braces`,
    )
  }
  if (
    options === null ||
    typeof options !== 'object' ||
    typeof options.store !== 'object' ||
    !options.store
  ) {
    throw new InvalidOptionError('channel needs a store: channel(name, { store })')
  }
  const retention = resolveRetention(options.durable)
  const codec = options.codec ?? createCodec()
  const report = options.onError ?? ((error: unknown) => console.error('[cachekit/pubsub]', error))
  const prefix = options.prefix ?? 'cachekit:channel:'
  const maxPending = options.maxPending ?? 10_000
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
    throw new InvalidOptionError(`channel maxPending must be a whole number >= 1, got ${String(maxPending)}`)
  }
  const queueing = { maxPending, name }
  // Recognised by what the store declares (`BACKING`) or offers, never by class.
  const backing = backingOf(options.store)
  const store = backing?.store ?? options.store
  let transport: Transport
  if (isRedis(store)) {
    // One hash tag: stream key and channel live on one Cluster slot.
    transport = redisTransport(store, `${prefix}{${name}}`, retention, queueing)
  } else if (backing?.kind === 'memory') {
    transport = memoryTransport(backing.store, name, retention, queueing)
  } else {
    throw new InvalidOptionError('channel store must be a memoryStore() or a redisStore()')
  }

  const subscribe: Channel<T>['subscribe'] = (handler, subscribeOptions = {}) => {
    try {
      if (typeof handler !== 'function') throw new InvalidOptionError('subscribe needs a handler function')
      const since = subscribeOptions.since === undefined ? undefined : parseEventId(subscribeOptions.since)
      return transport.subscribe(
        {
          async deliver(bytes, id) {
            await handler(codec.decode(bytes) as T, { id })
          },
          error: report,
        },
        retention === undefined ? undefined : since,
      )
    } catch (error) {
      return Promise.reject(error)
    }
  }

  return {
    name,
    durable: retention !== undefined,
    publish(message) {
      try {
        return transport.publish(codec.encode(message))
      } catch (error) {
        return Promise.reject(error)
      }
    },
    subscribe,
    messages: (messagesOptions = {}) => iterate(subscribe, messagesOptions),
  }
}

/** The async-iterator form of subscribe, with a bounded buffer. */
function iterate<T>(
  subscribe: Channel<T>['subscribe'],
  options: MessagesOptions,
): AsyncIterableIterator<ChannelMessage<T>> {
  const max = options.maxBuffered ?? 1000
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new InvalidOptionError(`messages maxBuffered must be a whole number >= 1, got ${String(max)}`)
  }
  const buffer: ChannelMessage<T>[] = []
  let waiting: ((result: IteratorResult<ChannelMessage<T>>) => void) | undefined
  let failing: ((error: unknown) => void) | undefined
  let failure: unknown
  let done = false
  const unsubscribed = subscribe(
    (data, meta) => {
      if (done) return
      const message = { id: meta.id, data }
      if (waiting) {
        const wake = waiting
        waiting = failing = undefined
        wake({ value: message, done: false })
      } else if (buffer.length >= max) {
        fail(new ChannelOverflowError(`More than ${max} unread messages: read faster or raise maxBuffered`))
      } else buffer.push(message)
    },
    options.since === undefined ? {} : { since: options.since },
  )
  const end = async (): Promise<IteratorResult<ChannelMessage<T>>> => {
    done = true
    options.signal?.removeEventListener('abort', onAbort)
    waiting?.({ value: undefined, done: true })
    waiting = failing = undefined
    await (await unsubscribed.catch(() => async () => {}))()
    return { value: undefined, done: true }
  }
  const fail = (error: unknown) => {
    if (failing) {
      const reject = failing
      waiting = failing = undefined
      reject(error)
    } else failure = error
    void end()
  }
  const onAbort = () => void end()
  if (options.signal?.aborted) void end()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  unsubscribed.catch(fail)
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    next() {
      const message = buffer.shift()
      if (message) return Promise.resolve({ value: message, done: false })
      if (failure !== undefined) {
        const error = failure
        failure = undefined
        return Promise.reject(error)
      }
      if (done) return Promise.resolve({ value: undefined, done: true })
      return new Promise((resolve, reject) => {
        waiting = resolve
        failing = reject
      })
    },
    return: end,
  }
}
