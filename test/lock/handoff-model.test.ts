import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocks, type LockHandle, type Locks } from '../../src/lock/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { useRedisServer } from '../support/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Op =
  | { readonly kind: 'wait'; readonly by: number; readonly wait: number }
  | { readonly kind: 'release'; readonly handle: number }
  | { readonly kind: 'abort'; readonly call: number }
  | { readonly kind: 'pause'; readonly ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('wait' as const),
    by: fc.nat(2),
    wait: fc.constantFrom(30, 3000),
  }),
  fc.record({ kind: fc.constant('release' as const), handle: fc.nat(20) }),
  fc.record({ kind: fc.constant('abort' as const), call: fc.nat(20) }),
  fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 25 }) }),
)

// Waits, releases (which grant the lock to a queued waiter), aborts and timeouts interleaved over
// three lock instances on two stores: one holder at a time, tokens increase in the order holders
// get the lock, every wait ends, and the lock is never left granted to nobody for long.
describe('lock handoff against a model (Redis, three instances)', () => {
  const server = useRedisServer()
  let stores: RedisStore[] = []
  let run = 0

  beforeAll(async () => {
    stores = [0, 1].map(() => redisStore({ url: server.url, timeout: 1000 }))
    await Promise.all(stores.map((s) => s.ready()))
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
  })

  it('waits, releases, aborts and timeouts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 30 }), async (ops) => {
        const prefix = `model${run++}:`
        const all: Locks[] = [0, 1, 2].map((i) => createLocks({ store: stores[i % 2] as RedisStore, prefix }))
        const held: LockHandle[] = []
        const holding = new Set<LockHandle>()
        const order: number[] = []
        const calls: { controller: AbortController; done: Promise<unknown> }[] = []
        const take = (handle: LockHandle) => {
          // One holder at a time: every earlier holder had its release sent already.
          expect([...holding]).toEqual([])
          holding.add(handle)
          held.push(handle)
          order.push(handle.token)
        }
        try {
          for (const step of ops) {
            if (step.kind === 'wait') {
              const controller = new AbortController()
              const locks = all[step.by] as Locks
              const done = locks
                .lock('job', { ttl: 10_000, wait: step.wait, signal: controller.signal })
                .then(take, () => {})
              calls.push({ controller, done })
            } else if (step.kind === 'release') {
              const handle = held[step.handle % Math.max(1, held.length)]
              if (handle === undefined || !holding.has(handle)) continue
              holding.delete(handle)
              expect(await handle.release()).toBe(true)
            } else if (step.kind === 'abort') {
              calls[step.call % Math.max(1, calls.length)]?.controller.abort()
            } else {
              await sleep(step.ms)
            }
          }
          // Release whatever is held until every wait has ended.
          for (;;) {
            for (const handle of [...holding]) {
              holding.delete(handle)
              await handle.release()
            }
            const settled = await Promise.race([
              Promise.all(calls.map((c) => c.done)).then(() => true),
              sleep(20).then(() => false),
            ])
            if (settled && holding.size === 0) break
          }
          expect(order).toEqual([...order].sort((a, b) => a - b))
          expect(new Set(order).size).toBe(order.length)
          // Nothing is left granted to nobody: a grant to a wait that ended was handed back, so the
          // lock is free now or (a grant crossing the end of a wait) once its short claim runs out.
          const free = await all[0]?.lock('job', { wait: 5000 })
          expect(free?.token).toBeGreaterThan(order.at(-1) ?? 0)
          await free?.release()
          for (const locks of all) expect(locks.stats()).toMatchObject({ held: 0, waiting: 0, lost: 0 })
        } finally {
          await Promise.all(all.map((locks) => locks.close()))
        }
      }),
      { numRuns: 40 },
    )
  }, 120_000)
})
