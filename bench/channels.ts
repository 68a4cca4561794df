/**
 * Scenario: channels. Publish → receive latency across processes on one Redis: the parent publishes,
 * a subscriber in another process notes each message's arrival on the machine-wide monotonic clock.
 * cachekit's channel (pub/sub, values through its codec), its durable channel (Redis Streams), and
 * node-redis PUBLISH/SUBSCRIBE with JSON as the limit. Two loads: paced (one message every
 * millisecond or so, each awaited) and a burst (every message of the round in flight at once).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { channel } from './lib/cachekit-pubsub.js'
import { redisStore } from './lib/cachekit-redis.js'
import type { Contender, Reply, Request, Sent } from './lib/channel-child.js'
import { table } from './lib/format.js'
import { quantile } from './lib/invalidation.js'
import { IpcChild } from './lib/ipc-child.js'
import { type BenchRedis, withBenchRedis } from './lib/redis-server.js'
import { defineScenario, progress } from './lib/scenario.js'

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'channel-child.ts')
const CONTENDERS: readonly [Contender, string][] = [
  ['cachekit', 'cachekit channel (pub/sub)'],
  ['cachekit-durable', 'cachekit durable channel (Streams, maxLen 10,000)'],
  ['node-redis', 'limit: node-redis PUBLISH / SUBSCRIBE, JSON'],
]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A shift update as the staff-scheduling app pushes it: ~200 bytes. */
const body = (i: number) => ({
  type: 'shift.updated',
  shiftId: 40_000 + i,
  siteId: 17,
  startsAt: new Date(Date.UTC(2026, 11, 7, 8, 0)),
  staff: [{ id: 311, name: 'Dana Ivanova', role: 'nurse' }],
  note: 'Covering for the morning slot',
})

export default defineScenario({
  title: '14. Channels: publish → receive latency across processes',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const paced = quick ? 200 : 2000
  const burst = quick ? 200 : 1000
  const rows: string[][] = []
  let cachekitP99 = Number.NaN
  for (const [contender, label] of CONTENDERS) {
    progress(label)
    const name = `bench-ch-${contender}`
    const child = new Child(contender, server.url, name)
    const publisher = await makePublisher(contender, server.url, name)
    try {
      await child.next('ready')
      // Until the subscription is live: prime until a message arrives.
      for (let i = 0; i < 50; i++) {
        await publisher.publish({ i, t0: String(process.hrtime.bigint()), body: body(i) })
        await sleep(2)
      }
      await sleep(200)
      child.send({ type: 'report', expect: 1 })
      await child.next('report')

      for (let i = 0; i < paced; i++) {
        await publisher.publish({ i, t0: String(process.hrtime.bigint()), body: body(i) })
        await sleep(1)
      }
      child.send({ type: 'report', expect: paced })
      const steady = await child.next('report')

      const sends: Promise<unknown>[] = []
      for (let i = 0; i < burst; i++) {
        sends.push(publisher.publish({ i, t0: String(process.hrtime.bigint()), body: body(i) }))
      }
      await Promise.all(sends)
      child.send({ type: 'report', expect: burst })
      const burstReport = await child.next('report')

      const ms = (ns: number) => (ns / 1e6).toFixed(2)
      const p = (xs: number[], q: number) => ms(quantile(xs, q))
      rows.push([
        label,
        `${steady.latencies.length}/${paced}`,
        p(steady.latencies, 0.5),
        p(steady.latencies, 0.99),
        ms(Math.max(...steady.latencies)),
        `${burstReport.latencies.length}/${burst}`,
        p(burstReport.latencies, 0.5),
        p(burstReport.latencies, 0.99),
        steady.inOrder && burstReport.inOrder ? 'yes' : 'NO',
      ])
      if (contender === 'cachekit') cachekitP99 = quantile(steady.latencies, 0.99) / 1e6
    } finally {
      child.close()
      await publisher.close()
    }
  }
  const body_ = [
    `One redis-server on loopback; the publisher in the scenario's process, each subscriber in a process of its own.`,
    `Paced: ${paced} messages, each publish awaited, then ~1 ms of sleep. Burst: ${burst} messages published at once.`,
    'Latency is from just before `publish` to the subscriber handler, on CLOCK_MONOTONIC shared by the processes.',
    'Messages are ~200-byte shift updates with a Date (cachekit encodes them with its codec; the limit with JSON).',
    '',
    table(
      [
        'subscriber',
        'paced received',
        'p50 ms',
        'p99 ms',
        'max ms',
        'burst received',
        'burst p50 ms',
        'burst p99 ms',
        'in order',
      ],
      rows,
    ),
    '',
    `The issue sets no goal for this figure; it is reported so a change that slows delivery shows. cachekit channel paced p99: ${cachekitP99.toFixed(2)} ms.`,
  ].join('\n')
  return { body: body_, targets: [] }
}

interface Publisher {
  publish(message: Sent): Promise<unknown>
  close(): Promise<void>
}

async function makePublisher(contender: Contender, url: string, name: string): Promise<Publisher> {
  if (contender === 'node-redis') {
    const client = createClient({ url })
    await client.connect()
    return { publish: (m) => client.publish(name, JSON.stringify(m)), close: () => client.close() }
  }
  const store = redisStore({ url, timeout: 5000 })
  await store.ready()
  const durable = contender === 'cachekit-durable' ? { maxLen: 10_000 } : undefined
  const ch = channel<Sent>(name, { store, durable })
  return { publish: (m) => ch.publish(m), close: () => store.close() }
}

class Child extends IpcChild<Request, Reply> {
  constructor(contender: Contender, url: string, name: string) {
    super(childScript, [contender, url, name], 'a channel child', { type: 'close' })
  }
}
