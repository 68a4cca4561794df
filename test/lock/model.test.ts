import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/index.js'
import { createLocks, type LockHandle, LockLostError } from '../../src/lock/index.js'

type Op =
  | { readonly kind: 'acquire'; readonly name: number; readonly ttl: number }
  | { readonly kind: 'release'; readonly handle: number }
  | { readonly kind: 'extend'; readonly handle: number; readonly ttl: number }
  | { readonly kind: 'advance'; readonly ms: number }

// TTLs of 5 s and more keep the handles' own (real-time) expiry timers out of the run: only the
// injected clock expires locks here.
const ttl = fc.integer({ min: 5_000, max: 60_000 })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('acquire' as const), name: fc.integer({ min: 0, max: 2 }), ttl }),
  fc.record({ kind: fc.constant('release' as const), handle: fc.nat(20) }),
  fc.record({ kind: fc.constant('extend' as const), handle: fc.nat(20), ttl }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 70_000 }) }),
)

/** What the locks must agree with: per name, the live holder's token and expiry, and the last token. */
interface Model {
  now: number
  readonly holders: Map<string, { token: number; expiresAt: number }>
  readonly last: Map<string, number>
}

function owner(model: Model, name: string, token: number): boolean {
  const holder = model.holders.get(name)
  return holder !== undefined && holder.token === token && holder.expiresAt > model.now
}

describe('lock ownership against a model (memory store, injected clock)', () => {
  it('acquire / release / extend / expire sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const model: Model = { now: 1_000_000, holders: new Map(), last: new Map() }
        const locks = createLocks({ store: memoryStore(), clock: { now: () => model.now } })
        const handles: LockHandle[] = []
        try {
          for (const step of ops) {
            if (step.kind === 'advance') {
              model.now += step.ms
            } else if (step.kind === 'acquire') {
              const name = `n${step.name}`
              const handle = await locks.tryLock(name, { ttl: step.ttl })
              const holder = model.holders.get(name)
              if (holder && holder.expiresAt > model.now) {
                expect(handle).toBeUndefined()
              } else {
                // The last token + 1, floored by the clock in microseconds (as on Redis).
                const token = Math.max((model.last.get(name) ?? 0) + 1, model.now * 1000)
                expect(handle?.token).toBe(token)
                model.last.set(name, token)
                model.holders.set(name, { token, expiresAt: model.now + step.ttl })
                handles.push(handle as LockHandle)
              }
            } else {
              const handle = handles[step.handle % Math.max(1, handles.length)]
              if (handle === undefined) continue
              const owns = owner(model, handle.name, handle.token)
              if (step.kind === 'release') {
                expect(await handle.release()).toBe(owns)
                if (owns) model.holders.delete(handle.name)
              } else if (owns) {
                await handle.extend(step.ttl)
                model.holders.set(handle.name, { token: handle.token, expiresAt: model.now + step.ttl })
              } else {
                await expect(handle.extend(step.ttl)).rejects.toBeInstanceOf(LockLostError)
              }
            }
          }
          // Tokens per name only grow, in acquisition order.
          for (const name of new Set(handles.map((h) => h.name))) {
            const tokens = handles.filter((h) => h.name === name).map((h) => h.token)
            expect(tokens).toEqual([...tokens].sort((a, b) => a - b))
            expect(new Set(tokens).size).toBe(tokens.length)
          }
        } finally {
          await locks.close()
        }
      }),
      { numRuns: 300 },
    )
  })
})
