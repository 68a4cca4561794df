import { fork } from 'node:child_process'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { type RedisStore, redisStore } from '../../../src/stores/redis/index.js'
import { activeHandles, leakedHandles, waitFor } from '../../support/processes.js'
import { redisAvailable, startRedis, useRedisServer } from '../../support/redis.js'
import { timed } from '../../support/timing.js'

const DEADLINE = 100
/** Event-loop noise on a 2-core machine shared with other suites (and CPU hogs in stress runs). */
const SLACK = 150
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A server that accepts TCP connections and never says a word: a hung Redis, a black-holed path. */
async function silentServer(): Promise<{ port: number; open: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.resume() // read and drop what the client sends, so its hang-up is seen
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    open: () => sockets.size,
    stop: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe.skipIf(!redisAvailable())('Redis store lifecycle', () => {
  const server = useRedisServer()

  it('has an explicit state and a ready() that resolves on the first connection', async () => {
    const store = redisStore({ url: server.url })
    expect(store.state).toBe('connecting')
    await store.ready()
    expect(store.state).toBe('ready')
    expect(store.stats()).toMatchObject({ state: 'ready', connected: true, circuit: 'closed' })
    const closing = store.close()
    expect(store.state).toBe('closing')
    await closing
    expect(store.state).toBe('closed')
    await expect(store.ready()).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
    await expect(store.get('k')).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })
  })

  it('ready() rejects with E_STORE_UNAVAILABLE after connectTimeout when Redis is down', async () => {
    const dead = await startRedis()
    await dead.stop()
    const store = redisStore({ url: dead.url, connectTimeout: 300, onLog: () => {} })
    const r = await timed(() => store.ready())
    expect(r.error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
    expect(r.ms).toBeGreaterThan(250)
    expect(r.ms).toBeLessThan(300 + SLACK * 3)
    expect(store.state).toBe('degraded')
    await store.close()
  })

  it('calls made while connecting wait for the first connection once, then are served', async () => {
    const store = redisStore({ url: server.url, timeout: DEADLINE })
    const cache = createCache({ store, prefix: 'startup' })
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => timed(() => cache.set(`k${i}`, i))),
    )
    expect(results.every((r) => r.ok)).toBe(true)
    expect(store.stats().startupWaits).toBeGreaterThan(0)
    expect(store.stats().errors).toBe(0)
    await cache.close()
  })

  it('6 processes started together against a healthy Redis: none fails its first call', async () => {
    const script = new URL('../../support/fixtures/redis-first-call.ts', import.meta.url).pathname
    const children = Array.from({ length: 6 }, () =>
      fork(script, [server.url], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    )
    try {
      // Everyone loaded first, then "go" to all at once: the stores are created at the same moment.
      await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))))
      const answers = children.map(
        (c) =>
          new Promise<{ ok: boolean; ms: number; error?: string }>((resolve) =>
            c.once('message', (m) => resolve(m as { ok: boolean; ms: number })),
          ),
      )
      for (const child of children) child.send('go')
      const results = await Promise.all(answers)
      for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ ok: true, errors: 0 })
    } finally {
      for (const child of children) child.kill()
    }
  }, 60_000)

  describe('a handshake that never completes', () => {
    async function check(store: RedisStore) {
      const cache = createCache({ store, prefix: 'hung' })
      const first = await timed(() => cache.get('k'))
      expect(first.ok).toBe(false)
      expect(first.error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      expect(first.ms).toBeLessThan(400 + SLACK * 2)
      expect(store.stats().circuit).toBe('open')
      expect(store.state).toBe('degraded')
      // The startup wait is never repeated: every later call costs at most the deadline.
      for (let i = 0; i < 10; i++) {
        const r = await timed(() => cache.get('k'))
        expect(r.ok).toBe(false)
        expect(r.ms).toBeLessThan(DEADLINE + SLACK)
      }
      await expect(store.ready()).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      return cache
    }

    it('a server that accepts TCP and stays silent: one failure at connectTimeout, then fast', async () => {
      const silent = await silentServer()
      const before = activeHandles()
      const store = redisStore({
        url: `redis://127.0.0.1:${silent.port}`,
        timeout: DEADLINE,
        connectTimeout: 400,
        onLog: () => {},
      })
      const cache = await check(store)
      const r = await timed(() => cache.close())
      expect(r.ms).toBeLessThan(2000)
      await waitFor(() => silent.open() === 0, 1000)
      expect(leakedHandles(before)).toEqual([])
      await silent.stop()
    })

    it('a SIGSTOPped redis-server: the same, and the store connects once it resumes', async () => {
      const paused = await startRedis()
      paused.pause()
      try {
        const store = redisStore({ url: paused.url, timeout: DEADLINE, connectTimeout: 400, onLog: () => {} })
        const cache = await check(store)
        paused.resume()
        await waitFor(async () => (await timed(() => cache.set('k', 1))).ok, 5000, 50)
        expect(store.state).toBe('ready')
        expect(await cache.get('k')).toBe(1)
        await cache.close()
      } finally {
        await paused.stop()
      }
    })
  })

  describe('close() settles within 2 s in every state and leaves no handle open', () => {
    async function closes(store: RedisStore, extra?: () => void) {
      extra?.()
      const r = await timed(() => store.close())
      expect(r.ok).toBe(true)
      expect(r.ms).toBeLessThan(2000)
      expect(store.state).toBe('closed')
      return r.ms
    }

    it('connecting, ready, with subscriptions live', async () => {
      let before = activeHandles()
      await closes(redisStore({ url: server.url }))
      expect(leakedHandles(before)).toEqual([])
      before = activeHandles()
      const store = redisStore({ url: server.url })
      const cache = createCache({ tiers: [(await import('../../../src/index.js')).memoryStore(), store] })
      await cache.set('k', 1)
      await waitFor(() => store.stats().subscriptions.live === 1, 3000)
      await closes(store)
      await cache.close()
      expect(leakedHandles(before)).toEqual([])
    })

    it('server hung after connecting, with writes in flight that get their deadline', async () => {
      const hung = await startRedis()
      const before = activeHandles()
      const store = redisStore({ url: hung.url, timeout: 300, onLog: () => {} })
      await store.ready()
      const unsubscribe = await store.channel('c').subscribe(() => {})
      store.channel('d').subscribe(() => {})
      await waitFor(() => store.stats().subscriptions.live === 2, 3000)
      hung.pause()
      // Unsubscribing (as a tiered cache's close() does) does not wait on the hung server.
      const dropped = await timed(() => unsubscribe())
      expect(dropped.ms).toBeLessThan(100 + SLACK)
      const writes = Array.from({ length: 5 }, (_, i) =>
        store.set(`w${i}`, 'v', { ttl: null }).catch((e) => e),
      )
      const ms = await closes(store)
      expect(ms).toBeGreaterThan(200) // the writes had their chance: their deadline
      for (const w of await Promise.all(writes)) expect(w).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      hung.resume()
      await sleep(50)
      expect(leakedHandles(before)).toEqual([])
      await hung.stop()
    })

    it('server down, reconnecting, with a subscription retrying', async () => {
      const down = await startRedis()
      const before = activeHandles()
      const store = redisStore({ url: down.url, onLog: () => {} })
      await store.ready()
      store.channel('c').subscribe(() => {})
      await down.kill()
      await sleep(300)
      expect(store.state).toBe('degraded')
      expect(store.stats().subscriptions.pending).toBe(1)
      await closes(store)
      expect(leakedHandles(before)).toEqual([])
      await down.stop()
    })

    it('connecting to a silent server, with calls waiting for the first connection', async () => {
      const silent = await silentServer()
      const before = activeHandles()
      const store = redisStore({
        url: `redis://127.0.0.1:${silent.port}`,
        connectTimeout: 5000,
        onLog: () => {},
      })
      store.channel('c').subscribe(() => {})
      const waiting = store.get('k').catch((e) => e)
      await sleep(100)
      expect(store.state).toBe('connecting')
      await closes(store)
      expect(await waiting).toMatchObject({ code: 'E_CACHE_CLOSED' })
      await waitFor(() => silent.open() === 0, 1000)
      expect(leakedHandles(before)).toEqual([])
      await silent.stop()
    })
  })
})
