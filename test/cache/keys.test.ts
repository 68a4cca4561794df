import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCache, key, memoryStore, UnkeyableArgumentError } from '../../src/index.js'

/** Strings made of delimiters, digits and words that other types are written with: where collisions hide. */
const trickyString = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc
    .array(
      fc.constantFrom(
        ',',
        ':',
        '=',
        '[',
        ']',
        '{',
        '}',
        '(',
        ')',
        "'",
        '%',
        '1',
        '-',
        'n',
        'a',
        'null',
        'true',
        'date',
      ),
      {
        maxLength: 5,
      },
    )
    .map((parts) => parts.join('')),
)

const keyable = fc.letrec((tie) => ({
  leaf: fc.oneof(
    trickyString,
    fc.constantFrom(0, -0, 1, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21),
    fc.integer({ min: -3, max: 3 }),
    fc.bigInt({ min: -3n, max: 3n }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constantFrom(new Date(0), new Date(Number.NaN), new Date('2020-01-01T10:20:30Z')),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(
      trickyString.filter((k) => k !== '__proto__'),
      tie('node'),
      { maxKeys: 3, noNullPrototype: true },
    ),
  ),
})).node

const argLists = fc.array(keyable, { maxLength: 3 })

describe('cached() keys are injective', () => {
  const cache = createCache({ store: memoryStore() })
  const fn = cache.cached(async (..._args: unknown[]) => 1, { key: 'f' })

  it('distinct arguments give distinct keys; equal arguments equal keys (property)', () => {
    const seen = new Map<string, unknown[]>()
    fc.assert(
      fc.property(argLists, (args) => {
        const k = fn.keyFor(...args)
        expect(fn.keyFor(...structuredClone(args))).toBe(k)
        const before = seen.get(k)
        if (before !== undefined)
          expect(isDeepStrictEqual(before, args), `${k} from two argument lists`).toBe(true)
        else seen.set(k, args)
      }),
      { numRuns: 20_000 },
    )
    // Many argument lists shared a key only because they were equal: the search found near misses.
    expect(seen.size).toBeGreaterThan(1000)
  })

  it('tells apart what the earlier encoding confused', () => {
    const pairs: [unknown[], unknown[]][] = [
      [[null], ['null']],
      [[undefined], ['undefined']],
      [[1], ['1']],
      [[1n], ['1n']],
      [[true], ['true']],
      [[['a,b']], [['a', 'b']]],
      [['a:b'], ['a', 'b']],
      [[{ a: 1 }], [{ a: '1' }]],
      [[{ a: undefined }], [{}]],
      [[new Date(0)], [new Date(0).toISOString()]],
      [[0], [-0]],
      [[[]], [{}]],
    ]
    for (const [a, b] of pairs) expect(fn.keyFor(...a)).not.toBe(fn.keyFor(...b))
    expect(fn.keyFor({ b: 1, a: 2 })).toBe(fn.keyFor({ a: 2, b: 1 }))
    expect(fn.keyFor(42, 'alice')).toBe('f:42:alice')
  })

  it('refuses arguments with no key form with a typed error that asks for a key function', async () => {
    const circular: Record<string, unknown> = {}
    circular['self'] = circular
    class Point {
      x = 1
    }
    for (const bad of [
      new Map(),
      new Set([1]),
      new Point(),
      () => 1,
      Symbol('s'),
      circular,
      Buffer.from('x'),
    ]) {
      expect(() => fn.keyFor(bad)).toThrow(UnkeyableArgumentError)
      await expect(fn(bad)).rejects.toMatchObject({ code: 'E_UNKEYABLE_ARGUMENT' })
      await expect(fn(bad)).rejects.toThrow(/pass a `key` function/)
    }
  })
})

describe('key() is injective for one name', () => {
  const params = fc.dictionary(
    fc.constantFrom('a', 'b', 'a:b', 'c'),
    fc.oneof(
      trickyString,
      fc.integer({ min: -2, max: 2 }),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.oneof(trickyString, fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
    ),
    { maxKeys: 3, noNullPrototype: true },
  )

  it('different parameters never build the same key (property)', () => {
    const seen = new Map<string, unknown>()
    fc.assert(
      fc.property(params, (p) => {
        const k = key('x', p)
        const before = seen.get(k)
        if (before !== undefined) expect(isDeepStrictEqual(before, p), k).toBe(true)
        else seen.set(k, p)
      }),
      { numRuns: 20_000 },
    )
  })

  it('keeps the documented form and separates what used to collide', () => {
    expect(key('user_profile', { user_id: 123, lang: 'ru' })).toBe('user_profile:lang:ru:user_id:123')
    expect(key('x', { ids: ['a,b'] })).not.toBe(key('x', { ids: ['a', 'b'] }))
    expect(key('x', { a: null })).not.toBe(key('x', { a: 'null' }))
    expect(() => key('x', { a: new Map() as never })).toThrow(UnkeyableArgumentError)
  })
})
