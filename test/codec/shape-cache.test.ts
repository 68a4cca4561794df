import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { msgpackSerializer } from '../../src/codec/index.js'

/**
 * The msgpack reader remembers record shapes (member-name lists) across entries by their bytes;
 * a remembered shape must decode exactly as a fresh read would, and count against the budgets.
 */
describe('msgpack reader: record shapes remembered across entries', () => {
  const msgpack = msgpackSerializer()

  it('decodes entries that share shapes exactly, again and again', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 5, noNullPrototype: true }),
          {
            maxLength: 6,
          },
        ),
        (objects) => {
          for (let i = 0; i < 3; i++) {
            for (const o of objects) expect(msgpack.deserialize(msgpack.serialize(o))).toStrictEqual(o)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('keeps a member named __proto__ as data when its shape comes from the cache', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"y":2}') as Record<string, unknown>
    const bytes = msgpack.serialize(value)
    for (let i = 0; i < 3; i++) {
      const out = msgpack.deserialize(bytes) as Record<string, unknown>
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual({ x: 1 })
    }
  })

  it('counts a remembered shape against the node and depth budgets', () => {
    const value = { a: 1, b: 2, c: 3 }
    const bytes = msgpack.serialize(value)
    expect(msgpack.deserialize(bytes)).toStrictEqual(value)
    // record + names array + 3 names + 3 values = 8 nodes; 7 is one short, cached or not.
    const tight = msgpackSerializer({ maxNodes: 7, maxDepth: 10 })
    expect(() => tight.deserialize(bytes)).toThrow(RangeError)
    expect(msgpackSerializer({ maxNodes: 8, maxDepth: 10 }).deserialize(bytes)).toStrictEqual(value)
    // The names list sits one level below the record: depth 1 refuses it.
    expect(() => msgpackSerializer({ maxNodes: 100, maxDepth: 1 }).deserialize(bytes)).toThrow(RangeError)
  })
})
