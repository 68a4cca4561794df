import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channel } from '../../src/pubsub/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { waitFor } from '../support/processes.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'
import { startProxy, type TcpProxy } from '../support/tcp-proxy.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(!redisAvailable())('channels over Redis', () => {
  const server = useRedisServer()
  const stores: RedisStore[] = []
  const store = (port?: number) => {
    const s = redisStore({ url: port ? `redis://127.0.0.1:${port}` : server.url, timeout: 1000 })
    stores.push(s)
    return s
  }
  const live = (s: RedisStore, n = 1) => waitFor(() => s.stats().subscriptions.live >= n, 5000)

  afterAll(async () => {
    for (const s of stores) await s.close()
  })

  it('messages of each publisher arrive in publish order, values through the codec', async () => {
    const sub = store()
    const got = new Map<string, number[]>()
    const stamps: Date[] = []
    await channel<{ from: string; n: number; at: Date; big: bigint }>('order', { store: sub }).subscribe(
      (m) => {
        const list = got.get(m.from) ?? []
        list.push(m.n)
        got.set(m.from, list)
        stamps.push(m.at)
        expect(m.big).toBe(2n ** 64n + BigInt(m.n))
      },
    )
    await live(sub)
    const publishers = ['a', 'b', 'c'].map((from) => ({ from, ch: channel('order', { store: store() }) }))
    await Promise.all(
      publishers.map(async ({ from, ch }) => {
        const sends: Promise<unknown>[] = []
        for (let n = 0; n < 300; n++)
          sends.push(ch.publish({ from, n, at: new Date(n), big: 2n ** 64n + BigInt(n) }))
        await Promise.all(sends)
      }),
    )
    await waitFor(() => [...got.values()].reduce((sum, l) => sum + l.length, 0) === 900, 10_000)
    for (const from of ['a', 'b', 'c'])
      expect(got.get(from)).toEqual(Array.from({ length: 300 }, (_, i) => i))
    expect(stamps.every((d) => d instanceof Date)).toBe(true)
  })

  it('resubscribes after Redis is killed and restarted', async () => {
    const sub = store()
    const pub = store()
    const got: number[] = []
    await channel<number>('restart', { store: sub }).subscribe((n) => void got.push(n))
    await live(sub)
    const ch = channel<number>('restart', { store: pub })
    await ch.publish(1)
    await waitFor(() => got.length === 1, 5000)
    await server.kill()
    await sleep(300)
    await server.restart()
    await live(sub)
    // Publish until one arrives: the publisher's own connection may still be coming back.
    await waitFor(async () => {
      await ch.publish(2).catch(() => {})
      return got.includes(2)
    }, 10_000)
  })

  it('durable: messages published right after a kill/restart arrive, even before the subscriber is back', async () => {
    const sub = store()
    const pub = store()
    const got: number[] = []
    const durable = { maxLen: 1000 }
    await channel<number>('restart-d', { store: sub, durable }).subscribe((n) => void got.push(n))
    await live(sub)
    const ch = channel<number>('restart-d', { store: pub, durable })
    await ch.publish(0)
    await waitFor(() => got.length === 1, 5000)
    await server.kill()
    await sleep(300)
    await server.restart() // empty: the old stream is gone, new ids are later in time
    await waitFor(() => pub.state === 'ready', 10_000)
    for (let n = 1; n <= 10; n++) await ch.publish(n)
    await waitFor(() => got.length === 11, 10_000)
    expect(got).toEqual(Array.from({ length: 11 }, (_, i) => i))
  })

  describe('durable (Streams)', () => {
    let proxy: TcpProxy
    beforeAll(async () => {
      proxy = await startProxy(server.port)
    })
    afterAll(async () => {
      await proxy?.close()
    })

    it('a subscriber cut off for 2 s receives every message it missed, in order, once', async () => {
      const sub = store(proxy.port)
      const pub = store()
      const got: { n: number; id: string | undefined }[] = []
      const errors: unknown[] = []
      const durable = { maxLen: 10_000 }
      await channel<number>('gap', { store: sub, durable, onError: (e) => errors.push(e) }).subscribe(
        (n, { id }) => {
          got.push({ n, id })
        },
      )
      await live(sub)
      const ch = channel<number>('gap', { store: pub, durable: { maxLen: 10_000 } })
      const ids: string[] = []
      let n = 0
      // Publishing stops before the cut ends: only the reconnect itself can reveal the gap.
      const publishing = (async () => {
        const until = Date.now() + 2200
        while (Date.now() < until) {
          ids.push((await ch.publish(n++)) as string)
          await sleep(5)
        }
      })()
      await sleep(500)
      const cut = proxy.cut(2000)
      await sleep(200)
      const before = got.length
      await cut
      await publishing
      expect(before).toBeLessThan(n) // it really missed some
      await waitFor(() => got.length >= n, 10_000)
      await sleep(100)
      expect(got.map((m) => m.n)).toEqual(Array.from({ length: n }, (_, i) => i))
      expect(got.map((m) => m.id)).toEqual(ids)
      expect(errors).toEqual([])
    }, 30_000)

    it('since: a reader with a last-seen id gets the gap; retention bounds the stream', async () => {
      const s = store()
      const ch = channel<string>('since', { store: s, durable: { maxLen: 100 } })
      const ids: string[] = []
      for (let i = 0; i < 10; i++) ids.push((await ch.publish(`m${i}`)) as string)
      const got: string[] = []
      await ch.subscribe((m) => void got.push(m), { since: ids[6] })
      await waitFor(() => got.length === 3, 5000)
      expect(got).toEqual(['m7', 'm8', 'm9'])

      const aged = channel<number>('aged', { store: s, durable: { retention: 300 } })
      const first = (await aged.publish(1)) as string
      await sleep(400)
      await aged.publish(2)
      const replay: number[] = []
      await aged.subscribe((n) => void replay.push(n), { since: '0-0' })
      await waitFor(() => replay.length >= 1, 5000)
      await sleep(50)
      expect(replay).toEqual([2])
      expect(first).toMatch(/^\d+-\d+$/)
      expect(Number(server.cli('XLEN', 'cachekit:channel:{since}'))).toBe(10)
    })
  })

  it('durable: a handler that fell behind past maxPending still gets every message, from the stream', async () => {
    const s = store()
    const errors: unknown[] = []
    const options = {
      store: s,
      durable: { maxLen: 1000 },
      maxPending: 5,
      onError: (e: unknown) => errors.push(e),
    }
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const got: number[] = []
    await channel<number>('slow-d', options).subscribe(async (n) => {
      await gate
      got.push(n)
    })
    await live(s)
    const ch = channel<number>('slow-d', { store: store(), durable: { maxLen: 1000 } })
    for (let n = 0; n < 100; n++) await ch.publish(n)
    await sleep(100)
    open()
    await waitFor(() => got.length === 100, 5000)
    await sleep(50)
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['E_CHANNEL_OVERFLOW'])
  })

  it('a hung Redis: publish and durable subscribe fail with typed errors within the deadline', async () => {
    const s = redisStore({ url: server.url, timeout: 200, onLog: () => {} })
    stores.push(s)
    await s.ready()
    const plain = channel<number>('hung', { store: s })
    const durable = channel<number>('hung-d', { store: s, durable: { maxLen: 10 } })
    server.pause()
    try {
      for (const attempt of [
        () => plain.publish(1),
        () => durable.publish(1),
        () => durable.subscribe(() => {}),
      ]) {
        const started = performance.now()
        await expect(attempt()).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
        expect(performance.now() - started).toBeLessThan(1500)
      }
    } finally {
      server.resume()
    }
  })

  it('close() is bounded with live and retrying subscriptions', async () => {
    const s = redisStore({ url: server.url, timeout: 500 })
    await channel('closing', { store: s }).subscribe(() => {})
    await channel('closing-d', { store: s, durable: { maxLen: 10 } }).subscribe(() => {})
    await live(s, 2)
    server.pause()
    try {
      const started = performance.now()
      await s.close()
      expect(performance.now() - started).toBeLessThan(2500)
    } finally {
      server.resume()
    }
  })
})
