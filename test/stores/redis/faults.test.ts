import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { type RedisLogEvent, redisStore } from '../../../src/stores/redis/index.js'
import { waitFor } from '../../support/processes.js'
import { redisAvailable, useRedisServer } from '../../support/redis.js'
import { timed } from '../../support/timing.js'

const DEADLINE = 100
/** Sweep granularity + event-loop noise on a 2-core machine shared with other suites. */
const SLACK = 60

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!redisAvailable())('redisStore under faults', () => {
  const server = useRedisServer()
  const closers: (() => Promise<void>)[] = []

  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    server.resume()
    await waitFor(() => server.cli('PING') === 'PONG', 5000).catch(() => server.restart())
  })

  function make(options: { onError?: 'throw' | 'ignore'; logs?: RedisLogEvent[] } = {}) {
    const store = redisStore({
      url: server.url,
      timeout: DEADLINE,
      onError: options.onError ?? 'throw',
      breaker: { threshold: 5, coolDownMs: 200 },
      onLog: (event) => options.logs?.push(event),
    })
    const cache = createCache({ store, prefix: 'faults' })
    closers.push(() => cache.close())
    return { store, cache }
  }

  it('kill -9 under load: no call waits past the deadline; recovers within 2 s of restart', async () => {
    const logs: RedisLogEvent[] = []
    const { store, cache } = make({ logs })
    await cache.set('k', 1)
    let running = true
    let slowest = 0
    let failures = 0
    let lastOk = 0
    const worker = async (id: number) => {
      while (running) {
        const r = await timed(() => (id % 2 ? cache.get('k') : cache.set(`w${id}`, id)))
        slowest = Math.max(slowest, r.ms)
        if (r.ok) lastOk = performance.now()
        else {
          failures++
          expect(r.error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
          await sleep(1)
        }
      }
    }
    const workers = Array.from({ length: 10 }, (_, i) => worker(i))
    await sleep(150)
    await server.kill()
    await sleep(400)
    expect(failures).toBeGreaterThan(0)
    const restartedAt = performance.now()
    await server.restart()
    await waitFor(() => lastOk > restartedAt, 2000, 10)
    running = false
    await Promise.all(workers)
    expect(lastOk - restartedAt).toBeLessThan(2000)
    expect(slowest).toBeLessThan(DEADLINE + SLACK)
    expect(logs.filter((e) => e.level === 'warn')).toHaveLength(1)
    expect(logs.some((e) => e.level === 'info' && /available again/.test(e.message))).toBe(true)
    expect(store.stats().errors).toBe(failures)
  })

  it("onError 'ignore': reads miss and writes are no-ops while Redis is down", async () => {
    const logs: RedisLogEvent[] = []
    const { store, cache } = make({ onError: 'ignore', logs })
    await cache.set('k', 1)
    await server.kill()
    await sleep(50)
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('k', 2)
    expect(await cache.add('x', 1)).toBe(false)
    expect(await cache.delete('k')).toBe(false)
    expect((await cache.getMany(['a', 'b'])).size).toBe(0)
    expect(await cache.deleteMany(['a'])).toBe(0)
    expect(await cache.incr('n', 3)).toBe(3)
    expect(await cache.ttl('k')).toBeUndefined()
    expect(await cache.deleteByTag('t')).toBe(0)
    expect(await cache.getOrSet('g', () => 'computed')).toBe('computed')
    expect(store.stats().ignoredErrors).toBeGreaterThanOrEqual(10)
    expect(logs.filter((e) => e.level === 'warn')).toHaveLength(1)
    await server.restart()
    await waitFor(async () => (await cache.get('k')) === undefined && store.stats().connected, 2000)
    await cache.set('k', 3)
    expect(await cache.get('k')).toBe(3)
  })

  it('a paused server: calls fail within the deadline, the breaker opens, then recovery', async () => {
    const { store, cache } = make()
    await cache.set('k', 1)
    server.pause()
    const first = await Promise.all(Array.from({ length: 6 }, () => timed(() => cache.get('k'))))
    for (const r of first) {
      expect(r.ok).toBe(false)
      expect(r.ms).toBeLessThan(DEADLINE + SLACK)
    }
    expect(store.stats().circuit).toBe('open')
    const fast = await timed(() => cache.get('k'))
    expect(fast.ok).toBe(false)
    expect(fast.error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
    expect(fast.ms).toBeLessThan(5)
    expect(store.stats().shortCircuited).toBeGreaterThan(0)
    server.resume()
    await waitFor(async () => (await timed(() => cache.get('k'))).ok, 2000, 20)
    expect(await cache.get('k')).toBe(1)
    expect(store.stats().circuit).toBe('closed')
  })

  it('SCRIPT FLUSH mid-run: incr keeps working', async () => {
    const { cache } = make()
    const runs = Array.from({ length: 20 }, async (_, i) => {
      if (i === 10) server.cli('SCRIPT', 'FLUSH')
      return cache.incr('counter', 1, { ttl: '1m' })
    })
    await Promise.all(runs)
    server.cli('SCRIPT', 'FLUSH')
    expect(await cache.incr('counter')).toBe(21)
    expect(await cache.ttl('counter')).toBeGreaterThan(50_000)
  })

  it('starting while Redis is down neither blocks nor crashes; it connects when Redis appears', async () => {
    await server.kill()
    const logs: RedisLogEvent[] = []
    const start = performance.now()
    const { cache } = make({ logs })
    expect(performance.now() - start).toBeLessThan(50)
    const r = await timed(() => cache.get('k'))
    expect(r.ok).toBe(false)
    expect(r.ms).toBeLessThan(DEADLINE + SLACK)
    const again = await timed(() => cache.get('k'))
    expect(again.ms).toBeLessThan(DEADLINE + SLACK)
    await sleep(300)
    const restartedAt = performance.now()
    await server.restart()
    await waitFor(async () => (await timed(() => cache.set('k', 1))).ok, 2000, 20)
    expect(performance.now() - restartedAt).toBeLessThan(2000)
    expect(await cache.get('k')).toBe(1)
  })
})

describe.skipIf(!redisAvailable())('redisStore keeps passwords secret', () => {
  const password = 'S3cr3t-p@ss/word'
  const server = useRedisServer({ password, user: { name: 'app', password } })

  it('connects with an encoded password and ACL user', async () => {
    const encoded = encodeURIComponent(password)
    for (const url of [
      `redis://:${encoded}@127.0.0.1:${server.port}/2`,
      `redis://app:${encoded}@127.0.0.1:${server.port}`,
    ]) {
      const cache = createCache({ store: redisStore({ url, timeout: 1000 }), prefix: 'auth' })
      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')
      await cache.close()
    }
    expect(server.cli('-n', '2', 'EXISTS', 'auth:k')).toBe('1')
  })

  it('never shows the password in errors or logs', async () => {
    const texts: string[] = []
    const collect = (e: unknown) => {
      let error = e
      while (error instanceof Error) {
        texts.push(error.message, String(error.stack))
        error = error.cause
      }
    }
    const logs: RedisLogEvent[] = []
    const wrong = `${password}-wrong`
    const store = redisStore({
      url: `redis://app:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}`,
      timeout: 200,
      onLog: (event) => logs.push(event),
    })
    const cache = createCache({ store, prefix: 'auth' })
    for (let i = 0; i < 3; i++) await cache.get('k').catch(collect)
    await cache.set('k', 1).catch(collect)
    await cache.close()
    for (const url of [
      `redis://app:${password}@127.0.0.1:notaport`,
      `redis://:${password}@127.0.0.1:6379/db`,
      `redis://:${password}@h1,h2`,
      `ftp://:${password}@h1`,
      `redis+sentinel://:${password}@h1:26379`,
      `redis://:${password}@host?x=1`,
    ]) {
      expect(() => redisStore({ url })).toThrow(/Invalid Redis URL/)
      try {
        redisStore({ url })
      } catch (error) {
        collect(error)
      }
    }
    texts.push(...logs.map((e) => e.message))
    expect(texts.length).toBeGreaterThan(6)
    for (const text of texts) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(wrong)
      expect(text).not.toContain(encodeURIComponent(password))
    }
  })
})
