/**
 * Child of bench/channels.ts: one subscriber process of one contender, driven over IPC. Each
 * message carries the publisher's send time on the machine-wide monotonic clock
 * (`process.hrtime.bigint()`, CLOCK_MONOTONIC, the same in every process); the child notes the
 * latency of each message on arrival and hands them all back when asked.
 *
 * `node --import tsx channel-child.ts <contender> <redis-url> <channel-name>`
 */
import { createClient } from 'redis'
import { channel } from './cachekit-pubsub.js'
import { redisStore } from './cachekit-redis.js'

export type Contender = 'cachekit' | 'cachekit-durable' | 'node-redis'

/** One message: its index, its send time (hrtime ns as a string) and a realistic body. */
export interface Sent {
  readonly i: number
  readonly t0: string
  readonly body: unknown
}

export type Request = { readonly type: 'report'; readonly expect: number } | { readonly type: 'close' }
export type Reply =
  | { readonly type: 'ready' }
  /** Latency of each message received (ns), in arrival order, and whether they came in publish order. */
  | { readonly type: 'report'; readonly latencies: number[]; readonly inOrder: boolean }

const [contender, url, name] = process.argv.slice(2) as [Contender, string, string]
const latencies: number[] = []
let last = -1
let inOrder = true
let waiting: { expect: number; resolve: () => void } | undefined

function received(message: Sent): void {
  const at = process.hrtime.bigint()
  latencies.push(Number(at - BigInt(message.t0)))
  if (message.i <= last) inOrder = false
  last = message.i
  if (waiting !== undefined && latencies.length >= waiting.expect) waiting.resolve()
}

let close: () => Promise<void>
if (contender === 'node-redis') {
  const client = createClient({ url })
  await client.connect()
  await client.subscribe(name, (text) => received(JSON.parse(text) as Sent))
  close = () => client.close()
} else {
  const store = redisStore({ url, timeout: 5000 })
  await store.ready()
  const durable = contender === 'cachekit-durable' ? { maxLen: 10_000 } : undefined
  const unsubscribe = await channel<Sent>(name, { store, durable }).subscribe(received)
  close = async () => {
    await unsubscribe()
    await store.close()
  }
}
// The subscription goes live shortly after subscribe resolves: the parent primes with messages
// until one arrives, so no timed message is sent before it is live.
process.send?.({ type: 'ready' } satisfies Reply)

process.on('message', async (request: Request) => {
  if (request.type === 'report') {
    if (latencies.length < request.expect) {
      await new Promise<void>((resolve) => {
        waiting = { expect: request.expect, resolve }
        setTimeout(resolve, 5_000)
      })
    }
    process.send?.({ type: 'report', latencies: latencies.splice(0), inOrder } satisfies Reply)
    last = -1
    inOrder = true
    waiting = undefined
  } else {
    await close()
    process.disconnect()
  }
})
