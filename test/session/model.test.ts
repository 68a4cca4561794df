import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SessionData, SessionSnapshot } from '../../src/session/index.js'
import { backings, sessionsOn } from '../support/session.js'

/**
 * Model test of the merge: several requests load the same session, change fields, and save in any
 * order, with logouts in between. The model applies each save as the documented merge: the fields
 * whose value differs from what that request read are set, the fields it read and then deleted are
 * removed, every other field keeps what is stored now; a save on a destroyed session changes nothing.
 */
type Op =
  | { op: 'load'; r: number }
  | { op: 'change'; r: number; field: string; value: unknown }
  | { op: 'remove'; r: number; field: string }
  | { op: 'save'; r: number }
  | { op: 'destroy' }

const field = fc.constantFrom('a', 'b', 'c', 'd', 'user')
const value = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y'), fc.record({ n: fc.nat(2) }))
const r = fc.nat(2)
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('load' as const), r }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('change' as const), r, field, value }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), r, field }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('save' as const), r }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('destroy' as const) }), weight: 1 },
)

interface Request {
  read: SessionData | undefined
  local: SessionData
  snapshot: SessionSnapshot | undefined
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y)

for (const backing of backings()) {
  describe(`session merge model (${backing.name})`, () => {
    it('matches the merge model for any interleaving of loads, changes, saves and logouts', async () => {
      const sessions = sessionsOn(backing.cache(), {
        userId: (data) => (typeof data['user'] === 'string' ? data['user'] : undefined),
      })
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
          const id = sessions.generateId()
          // Start from a stored session that all three requests have read: every later save races.
          let model: SessionData | 'dead' | undefined = { a: 0, b: 0, c: 0, user: 'u' }
          await sessions.save(id, model)
          const first = await sessions.load(id)
          const requests: Request[] = [0, 1, 2].map(() => ({
            read: { ...first?.data },
            local: { ...first?.data },
            snapshot: first?.snapshot,
          }))
          for (const o of ops) {
            if (o.op === 'destroy') {
              await sessions.destroy(id)
              model = 'dead'
            } else {
              const req = requests[o.r] as Request
              if (o.op === 'load') {
                const loaded = await sessions.load(id)
                req.snapshot = loaded?.snapshot
                req.read = loaded === undefined ? undefined : { ...loaded.data }
                req.local = loaded === undefined ? {} : { ...loaded.data }
              } else if (o.op === 'change') req.local[o.field] = o.value
              else if (o.op === 'remove') delete req.local[o.field]
              else {
                const outcome = await sessions.save(id, { ...req.local }, req.snapshot)
                // A save with nothing new is a touch not yet due: it writes nothing, so says 'skipped'.
                if (model === 'dead') expect(['destroyed', 'skipped']).toContain(outcome)
                else if (req.read === undefined || model === undefined) model = { ...req.local }
                else {
                  const next: SessionData = { ...model }
                  for (const [f, v] of Object.entries(req.local)) if (!same(v, req.read[f])) next[f] = v
                  for (const f of Object.keys(req.read)) if (!(f in req.local)) delete next[f]
                  model = next
                }
              }
            }
            const stored = await sessions.load(id)
            if (model === 'dead' || model === undefined) expect(stored).toBeUndefined()
            else expect(stored?.data).toEqual(model)
          }
        }),
        { numRuns: backing.name === 'memory' ? 400 : 80 },
      )
    })
  })
}
