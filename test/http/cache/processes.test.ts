import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../../support/http-client.js'
import { type RedisServer, redisAvailable, startRedis } from '../../support/redis.js'
import { startWorker, type Worker } from '../../support/worker-process.js'

const WORKER = fileURLToPath(new URL('../../support/fixtures/page-worker.ts', import.meta.url))
const root = fileURLToPath(new URL('../../..', import.meta.url))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** Every process sees the same site: the key includes the Host, as behind one load balancer. */
const HOST = { host: 'shop.example' }

describe.skipIf(!redisAvailable())('response cache across 4 processes on Redis', () => {
  let server: RedisServer
  let workers: Worker[] = []
  let ports: number[] = []
  beforeAll(async () => {
    server = await startRedis()
    const frameworks = ['express', 'fastify', 'hono', 'express']
    const prefix = `rcp${Date.now()}`
    workers = await Promise.all(
      frameworks.map((f) => startWorker(WORKER, [f, server.url, prefix], { limit: 170_000, cwd: root })),
    )
    ports = workers.map((w) => w.events[0]?.['port'] as number)
  }, 120_000)
  afterAll(async () => {
    for (const w of workers) w.proc.stdin.write('stop\n')
    await Promise.all(workers.map((w) => w.exited))
    await server?.stop()
  })

  it('200 concurrent requests on a cold page run the handler once across the 4 processes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => get(`http://127.0.0.1:${ports[i % 4]}/cold`, HOST)),
    )
    const runs = await Promise.all(
      ports.map(async (p) => JSON.parse((await get(`http://127.0.0.1:${p}/_runs`)).body)),
    )
    expect(runs.reduce((n, r) => n + r.cold, 0)).toBe(1)
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(new Set(answers.map((a) => a.body)).size).toBe(1)
  }, 120_000)

  it('a tag invalidated in one process drops the page in every process', async () => {
    const url = (p: number) => `http://127.0.0.1:${p}/tagged`
    await get(url(ports[0] as number), HOST)
    for (const p of ports) {
      const hit = await get(url(p), HOST)
      expect(hit.header('x-cache')).toBe('HIT')
    }
    const before = (await get(url(ports[0] as number), HOST)).body
    const done = JSON.parse((await get(`http://127.0.0.1:${ports[2]}/_invalidate`)).body)
    expect(done.deleted).toBeGreaterThan(0)
    // Every process stops serving the old page (the bus reaches each L1; wait for it, bounded).
    for (const p of ports) {
      let body = (await get(url(p), HOST)).body
      for (let i = 0; i < 500 && body === before; i++) {
        await sleep(10)
        body = (await get(url(p), HOST)).body
      }
      expect(body).not.toBe(before)
    }
  }, 120_000)
})
