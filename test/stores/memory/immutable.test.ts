import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { snapshot } from '../../../src/codec/index.js'
import { createCodec, ImmutableValueError, memoryStore } from '../../../src/index.js'
import { cacheValue } from '../../support/values.js'

const value = cacheValue({ encoded: false })

const opts = { ttl: null }

function store(mutation?: 'freeze' | 'clone' | 'reference') {
  return mutation ? memoryStore({ mutation }) : memoryStore()
}

describe("memory store 'freeze': Date, Map and Set are read-only, reads are zero-copy", () => {
  it('a read returns the same object twice when the value has no typed array', async () => {
    const s = store()
    await s.set(
      'k',
      { when: new Date(5), m: new Map([['a', { b: 1 }]]), s: new Set([1]), n: { x: [1] } },
      opts,
    )
    const a = await s.get('k')
    expect(a).toBe(await s.get('k'))
    await s.set('d', new Date(7), opts)
    expect(await s.get('d')).toBe(await s.get('d'))
  })

  it('mutating a read Date, Map or Set throws ImmutableValueError and leaves the cache unchanged', async () => {
    const s = store()
    await s.set('k', { when: new Date(0), m: new Map([['a', 1]]), s: new Set(['x']) }, opts)
    const got = (await s.get('k')) as { when: Date; m: Map<string, number>; s: Set<string> }
    const attempts: (() => unknown)[] = [
      () => got.when.setTime(1),
      () => got.when.setFullYear(2000),
      () => got.when.setUTCHours(3),
      () => got.m.set('b', 2),
      () => got.m.delete('a'),
      () => got.m.clear(),
      () => got.s.add('y'),
      () => got.s.delete('x'),
      () => got.s.clear(),
    ]
    for (const attempt of attempts) {
      expect(attempt).toThrow(ImmutableValueError)
      expect(attempt).toThrow(expect.objectContaining({ code: 'E_VALUE_IMMUTABLE' }))
    }
    // Own properties cannot shadow the methods either: the instances are frozen.
    expect(() => {
      ;(got.m as unknown as Record<string, unknown>)['set'] = () => undefined
    }).toThrow(TypeError)
    expect(await s.get('k')).toStrictEqual({ when: new Date(0), m: new Map([['a', 1]]), s: new Set(['x']) })
  })

  it('the read-only instances behave as the built-ins for readers and codecs', async () => {
    const s = store()
    const when = new Date('2024-03-14T15:09:26.535Z')
    await s.set('k', { when, m: new Map([[1, 'a']]), s: new Set([2]) }, opts)
    const got = (await s.get('k')) as { when: Date; m: Map<number, string>; s: Set<number> }
    expect(got.when).toBeInstanceOf(Date)
    expect(got.when.constructor).toBe(Date)
    expect(got.m.constructor).toBe(Map)
    expect(got.s.constructor).toBe(Set)
    expect(Object.getPrototypeOf(got.m)).toBe(Map.prototype)
    expect(isDeepStrictEqual(got.when, when)).toBe(true)
    expect(isDeepStrictEqual(got.m, new Map([[1, 'a']]))).toBe(true)
    expect(got.when.getTime()).toBe(when.getTime())
    expect(got.when.toISOString()).toBe(when.toISOString())
    expect(JSON.stringify(got)).toBe(JSON.stringify({ when, m: {}, s: {} }))
    expect([...got.m]).toEqual([[1, 'a']])
    expect(got.s.has(2)).toBe(true)
    const cloned = structuredClone(got)
    expect(cloned.when.constructor).toBe(Date)
    cloned.when.setTime(0)
    cloned.m.set(3, 'c')
    // A copy made the usual ways is an ordinary mutable built-in.
    const copy = new (got.m.constructor as MapConstructor)(got.m) as Map<number, string>
    copy.set(9, 'z')
    new Date(got.when).setTime(1)
    for (const codec of [createCodec(), createCodec({ serializer: 'json' })]) {
      const back = codec.decode(codec.encode(got))
      expect(back).toStrictEqual({ when, m: new Map([[1, 'a']]), s: new Set([2]) })
    }
    // Writing a read value back stores an equal value.
    await s.set('k2', got, opts)
    expect(await s.get('k2')).toStrictEqual(got)
  })

  it('typed arrays are still copied on read (they cannot be made read-only)', async () => {
    const s = store()
    await s.set(
      'k',
      { bytes: new Uint8Array([1, 2]), m: new Map([['b', Buffer.from([3])]]), other: { x: 1 } },
      opts,
    )
    const a = (await s.get('k')) as { bytes: Uint8Array; m: Map<string, Buffer>; other: object }
    const b = (await s.get('k')) as typeof a
    expect(a).not.toBe(b)
    expect(a.other).toBe(b.other)
    a.bytes[0] = 99
    a.m.get('b')![0] = 99
    expect(() => a.m.set('c', Buffer.from([1]))).toThrow(ImmutableValueError)
    expect(await s.get('k')).toStrictEqual({
      bytes: new Uint8Array([1, 2]),
      m: new Map([['b', Buffer.from([3])]]),
      other: { x: 1 },
    })
  })

  it("'clone' and 'reference' hand out ordinary mutable Dates, Maps and Sets", async () => {
    for (const mutation of ['clone', 'reference'] as const) {
      const s = store(mutation)
      const original = { when: new Date(0), m: new Map([['a', 1]]), s: new Set([1]) }
      await s.set('k', original, opts)
      const got = (await s.get('k')) as typeof original
      got.when.setTime(5)
      got.m.set('b', 2)
      got.s.add(2)
      if (mutation === 'clone') expect((await s.get('k')) as object).toStrictEqual(original)
      else expect(await s.get('k')).toBe(original)
    }
  })

  it('a frozen snapshot round-trips equal to the original (property)', () => {
    const codec = createCodec()
    fc.assert(
      fc.property(value, (v) => {
        const frozen = snapshot(v, 'freeze').value
        expect(frozen).toStrictEqual(v)
        expect(snapshot(frozen, 'clone').value).toStrictEqual(v)
        expect(codec.decode(codec.encode(frozen))).toStrictEqual(codec.decode(codec.encode(v)))
      }),
      { numRuns: 300 },
    )
  })

  it('a read of any value equals what was written, and mutating its Dates, Maps and Sets throws (property)', async () => {
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const s = store()
        await s.set('k', v, opts)
        const got = await s.get('k')
        expect(got).toStrictEqual(v)
        for (const part of parts(got)) {
          if (part instanceof Date) expect(() => part.setTime(0)).toThrow(ImmutableValueError)
          else if (part instanceof Map) expect(() => part.clear()).toThrow(ImmutableValueError)
          else if (part instanceof Set) expect(() => part.add(1)).toThrow(ImmutableValueError)
          else if (part !== null && typeof part === 'object' && !ArrayBuffer.isView(part))
            expect(Object.isFrozen(part)).toBe(true)
        }
        expect(await s.get('k')).toStrictEqual(v)
      }),
      { numRuns: 200 },
    )
  })
})

function* parts(v: unknown): Generator<unknown> {
  yield v
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof Date) return
  if (v instanceof Map) {
    for (const [k, x] of v) {
      yield* parts(k)
      yield* parts(x)
    }
  } else if (v instanceof Set) for (const x of v) yield* parts(x)
  else for (const x of Object.values(v)) yield* parts(x)
}
