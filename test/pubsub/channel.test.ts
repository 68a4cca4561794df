import { describe, expect, it } from 'vitest'
import { InvalidOptionError, memoryStore } from '../../src/index.js'
import {
  ChannelOverflowError,
  channel,
  InvalidEventIdError,
  openEventStream,
  resolveEventStreamOptions,
} from '../../src/pubsub/index.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Event {
  at: Date
  seen: Map<string, bigint>
  tags: Set<string>
  none: undefined
}

describe('channels over memory', () => {
  it('round-trips Date, Map, Set, BigInt and undefined through the codec', async () => {
    const ch = channel<Event>('codec', { store: memoryStore() })
    const got: Event[] = []
    await ch.subscribe((message) => {
      got.push(message)
    })
    const sent: Event = {
      at: new Date(1_700_000_000_123),
      seen: new Map([['a', 2n ** 70n]]),
      tags: new Set(['x']),
      none: undefined,
    }
    await ch.publish(sent)
    await sleep(5)
    expect(got).toEqual([sent])
    expect(got[0]?.at).toBeInstanceOf(Date)
    expect(got[0]).not.toBe(sent) // a copy, as over Redis
  })

  it('delivers in publish order, awaits async handlers, stops after unsubscribe', async () => {
    const store = memoryStore()
    const ch = channel<number>('order', { store })
    const got: number[] = []
    const stop = await ch.subscribe(async (n) => {
      if (n % 7 === 0) await sleep(1)
      got.push(n)
    })
    for (let i = 0; i < 200; i++) void ch.publish(i)
    await sleep(100)
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i))
    await stop()
    await ch.publish(999)
    await sleep(5)
    expect(got).toHaveLength(200)
    // Another store is another world.
    const other: number[] = []
    await channel<number>('order', { store: memoryStore() }).subscribe((n) => {
      other.push(n)
    })
    await ch.publish(1)
    await sleep(5)
    expect(other).toEqual([])
  })

  it('durable: ids increase, since replays the gap, maxLen bounds it', async () => {
    const ch = channel<string>('log', { store: memoryStore(), durable: { maxLen: 5 } })
    const ids: string[] = []
    for (let i = 0; i < 8; i++) ids.push((await ch.publish(`m${i}`)) as string)
    expect(new Set(ids).size).toBe(8)
    const got: [string, string | undefined][] = []
    await ch.subscribe((m, { id }) => void got.push([m, id]), { since: ids[4] })
    await sleep(5)
    expect(got).toEqual([
      ['m5', ids[5]],
      ['m6', ids[6]],
      ['m7', ids[7]],
    ])
    const all: string[] = []
    await ch.subscribe((m) => void all.push(m), { since: '0-0' })
    await sleep(5)
    expect(all).toEqual(['m3', 'm4', 'm5', 'm6', 'm7'])
  })

  it('messages(): async iteration, abort, and overflow as a typed error', async () => {
    const store = memoryStore()
    const ch = channel<number>('iter', { store })
    const controller = new AbortController()
    const seen: number[] = []
    const reading = (async () => {
      for await (const { data } of ch.messages({ signal: controller.signal })) {
        seen.push(data)
        if (seen.length === 3) controller.abort()
      }
    })()
    await sleep(1)
    for (let i = 0; i < 5; i++) await ch.publish(i)
    await reading
    expect(seen).toEqual([0, 1, 2])

    const slow = ch.messages({ maxBuffered: 2 })
    for (let i = 0; i < 4; i++) await ch.publish(i)
    await sleep(5)
    expect((await slow.next()).value?.data).toBe(0)
    expect((await slow.next()).value?.data).toBe(1)
    await expect(slow.next()).rejects.toBeInstanceOf(ChannelOverflowError)
    expect((await slow.next()).done).toBe(true)
  })

  it('rejects bad names, options and ids with typed errors', async () => {
    const store = memoryStore()
    expect(() => channel('', { store })).toThrow(InvalidOptionError)
    expect(() => channel('a b', { store })).toThrow(InvalidOptionError)
    expect(() => channel('a', { store: {} })).toThrow(InvalidOptionError)
    expect(() => channel('a', { store, durable: {} })).toThrow(InvalidOptionError)
    expect(() => channel('a', { store, durable: { maxLen: 0 } })).toThrow(InvalidOptionError)
    const ch = channel('a', { store, durable: { retention: '1m' } })
    await expect(ch.subscribe(() => {}, { since: 'yesterday' })).rejects.toBeInstanceOf(InvalidEventIdError)
    await expect(ch.publish(() => 1)).rejects.toMatchObject({ code: 'E_VALUE_NOT_ENCODABLE' })
  })

  it('reports handler errors and keeps delivering', async () => {
    const errors: unknown[] = []
    const ch = channel<number>('errs', { store: memoryStore(), onError: (e) => errors.push(e) })
    const got: number[] = []
    await ch.subscribe((n) => {
      if (n === 1) throw new Error('boom')
      got.push(n)
    })
    for (const n of [0, 1, 2]) await ch.publish(n)
    await sleep(5)
    expect(got).toEqual([0, 2])
    expect(errors).toHaveLength(1)
  })

  it('event streams: options are checked at setup; multi-line data becomes several data: lines', async () => {
    expect(() => resolveEventStreamOptions({ event: 'a\nb' })).toThrow(InvalidOptionError)
    expect(() => resolveEventStreamOptions({ retry: 0 })).toThrow(InvalidOptionError)
    expect(() => resolveEventStreamOptions({ heartbeat: Number.POSITIVE_INFINITY })).toThrow(
      InvalidOptionError,
    )
    const ch = channel<string>('sse-lines', { store: memoryStore(), durable: { maxLen: 10 } })
    let text = ''
    let ended = false
    const options = resolveEventStreamOptions<string>({ event: 'note', format: (m) => m })
    const stream = openEventStream(ch, undefined, options, {
      write: (t) => {
        text += t
      },
      buffered: () => 0,
      end: () => {
        ended = true
      },
    })
    await sleep(1)
    const id = await ch.publish('one\ntwo')
    await sleep(5)
    await stream.close()
    expect(text).toBe(`retry: 1000\n: connected\n\nid: ${id}\nevent: note\ndata: one\ndata: two\n\n`)
    expect(ended).toBe(true)
  })

  it('a handler that falls behind: the backlog is bounded, the overflow reported once', async () => {
    const errors: unknown[] = []
    const ch = channel<number>('slow', {
      store: memoryStore(),
      maxPending: 5,
      onError: (e) => errors.push(e),
    })
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const got: number[] = []
    await ch.subscribe(async (n) => {
      await gate
      got.push(n)
    })
    for (let n = 0; n < 50; n++) await ch.publish(n)
    open()
    await sleep(20)
    expect(got).toEqual([0, 1, 2, 3, 4])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(ChannelOverflowError)
    expect(() => channel('x', { store: memoryStore(), maxPending: 0 })).toThrow(InvalidOptionError)
  })
})
