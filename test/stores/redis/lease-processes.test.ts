import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { redisAvailable, useRedisServer } from '../../support/redis.js'
import { startWorker, type Worker } from '../../support/worker-process.js'

const WORKER = fileURLToPath(new URL('../../support/fixtures/lease-worker.ts', import.meta.url))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts the worker fixture and waits for its `ready` event; killed after `limit` ms whatever happens. */
function worker(args: string[], limit = 60_000): Promise<Worker> {
  return startWorker(WORKER, args, { limit })
}

const go = (w: Worker) => w.proc.stdin.write('go\n')

describe.skipIf(!redisAvailable())('getOrSet single flight across processes', () => {
  const server = useRedisServer()

  it('a holder that closes right after serving lets the others have the value within 2x the factory time', async () => {
    const FACTORY = 500
    const key = `close-${Date.now()}`
    const holder = await worker([server.url, key, 'serve-close', String(FACTORY), '30000'])
    const others = await Promise.all(
      [1, 2, 3].map(() => worker([server.url, key, 'other', String(FACTORY), '30000'])),
    )
    go(holder)
    // The holder has the lease before the others ask.
    await holder.next('computing')
    for (const other of others) go(other)
    const served = await holder.next('value')
    const closed = await holder.next('closed')
    expect(served['calls']).toBe(1)
    const values = await Promise.all(others.map((o) => o.next('value')))
    for (const value of values) {
      expect(value['error']).toBeUndefined()
      expect(value['calls']).toBe(0)
      expect(value['value']).toEqual(served['value'])
      // Each asked while the holder computed: waiting costs the rest of the factory, not a lease TTL.
      expect(value['ms'] as number).toBeLessThan(2 * FACTORY)
    }
    expect(closed['ms'] as number).toBeLessThan(2000)
    // No timer of the cache outlives close() (hard timeouts, lease renewals).
    expect(closed['resources']).not.toContain('Timeout')
    for (const w of [holder, ...others]) expect(await w.exited).toBe(0)
  }, 90_000)

  it('a hung factory stalls the other processes only until its hardTimeout; then they compute, and the hung process answers again', async () => {
    const HARD = 1500
    const key = `hung-${Date.now()}`
    const hung = await worker([server.url, key, 'hung', '50', String(HARD)])
    const others = await Promise.all(
      [1, 2, 3].map(() => worker([server.url, key, 'other', '50', String(HARD)])),
    )
    go(hung)
    await sleep(100)
    for (const other of others) go(other)
    const first = await hung.next('first')
    expect(first['code']).toBe('E_FACTORY_TIMEOUT')
    expect(first['ms'] as number).toBeGreaterThanOrEqual(HARD - 50)
    const values = await Promise.all(others.map((o) => o.next('value')))
    // Workers may start late on a busy machine: compare wall-clock times across processes. None
    // had a value before the hung factory's hard timeout; all had one soon after it.
    const hungAt = first['at'] as number
    for (const value of values) {
      expect(value['error']).toBeUndefined()
      expect(value['at'] as number).toBeGreaterThanOrEqual(hungAt - 300)
      expect(value['at'] as number).toBeLessThan(hungAt + 5000)
    }
    const second = await hung.next('second')
    expect(second['missing']).toBeUndefined()
    expect(second['ms'] as number).toBeLessThan(HARD + 5000)
    const closed = await hung.next('closed')
    // Once the hung holder's lease ended, one process computed (maybe the hung one, asking
    // again); every other took its value.
    const computed = values.reduce((sum, v) => sum + (v['calls'] as number), closed['calls'] as number)
    expect(computed).toBe(1)
    for (const value of values) expect(value['value']).toEqual(second['value'])
    // close() gives the hung factory up after its bounded wait.
    expect(closed['ms'] as number).toBeLessThan(2500)
    // No timer of the cache outlives close() (hard timeouts, lease renewals).
    expect(closed['resources']).not.toContain('Timeout')
    for (const w of [hung, ...others]) expect(await w.exited).toBe(0)
  }, 90_000)
})
