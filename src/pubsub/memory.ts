import { getOrMake } from '../internal/index.js'
import { compareIds } from './ids.js'
import { type Queueing, type Retention, Serial, type Sink, type Transport } from './transport.js'

interface Topic {
  readonly subscribers: Set<Subscriber>
  /** Durable channels keep their recent messages, oldest first, like a Redis stream. */
  readonly log: { id: string; at: number; bytes: Uint8Array }[]
  lastMs: number
  seq: number
}

interface Subscriber {
  readonly sink: Sink
  readonly serial: Serial
  removed: boolean
}

/** Every in-process channel of one memory store, so two stores never hear each other. */
const hubs = new WeakMap<object, Map<string, Topic>>()

function topicOf(store: object, name: string): Topic {
  const hub = getOrMake(hubs, store, () => new Map<string, Topic>())
  return getOrMake(hub, name, () => ({ subscribers: new Set(), log: [], lastMs: 0, seq: 0 }))
}

/**
 * In-process channels over a memory store. Delivery is asynchronous (a later microtask), as over
 * Redis, so code written against memory behaves the same on Redis. A durable channel keeps a
 * bounded log with Redis-style ids (`ms-seq`), so `since` and SSE resumption work the same too.
 */
export function memoryTransport(
  store: object,
  name: string,
  retention: Retention | undefined,
  queueing: Queueing,
): Transport {
  const topic = topicOf(store, name)
  const trim = (now: number) => {
    if (retention === undefined) return
    const { maxLen, retentionMs } = retention
    let drop = 0
    if (maxLen !== undefined) drop = Math.max(0, topic.log.length - maxLen)
    if (retentionMs !== undefined) {
      while (drop < topic.log.length && (topic.log[drop]?.at ?? now) < now - retentionMs) drop++
    }
    if (drop > 0) topic.log.splice(0, drop)
  }
  const send = (subscriber: Subscriber, bytes: Uint8Array, id: string | undefined) => {
    void subscriber.serial.run(
      async () => {
        if (!subscriber.removed) await subscriber.sink.deliver(bytes, id)
      },
      (error) => subscriber.sink.error(error),
    )
  }
  return {
    publish(bytes) {
      let id: string | undefined
      if (retention !== undefined) {
        const now = Date.now()
        if (now > topic.lastMs) {
          topic.lastMs = now
          topic.seq = 0
        } else topic.seq++
        id = `${topic.lastMs}-${topic.seq}`
        topic.log.push({ id, at: now, bytes })
        trim(now)
      }
      for (const subscriber of topic.subscribers) send(subscriber, bytes, id)
      return Promise.resolve(id)
    },
    subscribe(sink, since) {
      const subscriber: Subscriber = {
        sink,
        serial: new Serial(queueing.maxPending, queueing.name),
        removed: false,
      }
      if (retention !== undefined && since !== undefined) {
        trim(Date.now())
        for (const entry of topic.log)
          if (compareIds(entry.id, since) > 0) send(subscriber, entry.bytes, entry.id)
      }
      topic.subscribers.add(subscriber)
      return Promise.resolve(async () => {
        subscriber.removed = true
        topic.subscribers.delete(subscriber)
      })
    },
  }
}
