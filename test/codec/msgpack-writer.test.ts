import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { packPlain } from '../../src/codec/msgpack-writer.js'
import { PACKR_OPTIONS } from '../../src/codec/serializers.js'
import { createCodec } from '../../src/index.js'

/**
 * The plain-data writer (src/codec/msgpack-writer.ts) must write exactly what msgpackr writes with
 * the msgpack serializer's options: msgpackr is the model, compared byte for byte.
 */
const packr = new Packr({ ...PACKR_OPTIONS })

function same(value: unknown): void {
  const mine = packPlain(value, 0)
  expect(mine, 'the plain-data writer gave up on plain data').toBeDefined()
  expect(Buffer.compare(mine as Buffer, packr.pack(value))).toBe(0)
}

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Lone surrogates, as a string cut inside an emoji has them.
  fc.string({
    unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)),
    maxLength: 70,
  }),
  fc.string({ unit: 'grapheme', minLength: 20, maxLength: 400 }),
  fc.nat(70_000).map((n) => 'é'.repeat(n)),
)
const numeric = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.integer({ min: -0x81, max: 0x101 }),
  fc.constantFrom(
    0x3f,
    0x40,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x10000,
    2 ** 32 - 1,
    2 ** 32,
    -(2 ** 31),
    -(2 ** 31) - 1,
  ),
  fc.maxSafeInteger(),
)
const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((s) => new Date(s * 1000)),
  fc.integer({ min: -(2 ** 40), max: 2 ** 44 }).map((ms) => new Date(ms)),
)
const names = fc.oneof(
  fc.constantFrom('id', 'name', 'active', 'score', 'tags', '1', '0', 'é'),
  fc.string({ maxLength: 8 }),
)

const plainValue = fc.letrec((tie) => ({
  leaf: fc.oneof(text, numeric, fc.boolean(), fc.constant(null), fc.constant(undefined), date),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 20 }),
    fc.dictionary(
      names.filter((k) => k !== '__proto__'),
      tie('node'),
      { maxKeys: 5, noNullPrototype: true },
    ),
    // Many objects of a few shapes: records defined once, then written by id.
    fc
      .tuple(
        fc.uniqueArray(names, { maxLength: 4 }),
        fc.array(fc.array(tie('leaf'), { minLength: 4, maxLength: 4 }), { maxLength: 6 }),
      )
      .map(([keys, rows]) => rows.map((row) => Object.fromEntries(keys.map((k, i) => [k, row[i]])))),
  ),
})).node

describe('the plain-data MessagePack writer', () => {
  it('writes the bytes msgpackr writes, for any plain data', () => {
    fc.assert(fc.property(plainValue, same), { numRuns: 600 })
  })

  it('writes the same bytes at the edges of every encoding', () => {
    for (const value of [
      {},
      [],
      '',
      'x'.repeat(31),
      'x'.repeat(32),
      'x'.repeat(63),
      'x'.repeat(64),
      'é'.repeat(20),
      'é'.repeat(200),
      '\u{1F600}'.repeat(16),
      `${'a'.repeat(62)}\u{1F600}`,
      '\uD800',
      `${'a'.repeat(70)}\uD800`,
      'x'.repeat(300_000),
      new Date(Number.NaN),
      new Date(-1),
      new Date(2 ** 32 * 1000),
      Array.from({ length: 70_000 }, (_, i) => i),
      { a: {}, b: {}, c: [{}, { a: 1 }, { a: 2 }] },
      Array.from({ length: 64 }, (_, i) => ({ [`k${i}`]: i })),
    ]) {
      same(value)
    }
  })

  it('keeps every shape right once the shape tree starts over', () => {
    for (let i = 0; i < 6000; i++) same({ [`member${i}`]: i, shared: true })
    same({ id: 1, name: 'a' })
  })

  it('leaves to the general path what is not plain data, or past its bounds', () => {
    class Account {
      id = 1
    }
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = [deep]
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic['self'] = cyclic
    const inherited = Object.create({ inherited: 1 }) as object
    for (const value of [
      new Map([[1, 2]]),
      new Set([1]),
      new Uint8Array(2),
      Buffer.from('ab'),
      10n,
      new Account(),
      { nested: [new Account()] },
      Object.create(null),
      inherited,
      { constructor: 'own member named constructor' },
      deep,
      cyclic,
      Array.from({ length: 65 }, (_, i) => ({ [`k${i}`]: i })),
      Array.from({ length: 100_001 }, () => 0),
      () => 1,
      Symbol('x'),
    ]) {
      expect(packPlain(value, 3)).toBeUndefined()
    }
  })

  it('gives up, rather than sharing its buffer, when a getter writes while a value is being written', () => {
    let inner: Buffer | undefined | 'unset' = 'unset'
    const value = {
      a: 1,
      get b() {
        inner = packPlain({ x: 1 }, 0)
        return 2
      },
    }
    const out = packPlain(value, 0)
    expect(inner).toBeUndefined()
    expect(Buffer.compare(out as Buffer, packr.pack(value))).toBe(0)
  })

  it('leaves the reserved bytes to the caller, and the codec reads every entry it writes', () => {
    const out = packPlain({ id: 1 }, 11) as Buffer
    expect(Buffer.compare(out.subarray(11), packr.pack({ id: 1 }))).toBe(0)
    const codec = createCodec()
    const compressed = createCodec({ compression: { threshold: 64 } })
    fc.assert(
      fc.property(plainValue, (value) => {
        for (const c of [codec, compressed]) {
          const back = c.decode(c.encode(value))
          expect(isDeepStrictEqual(back, value) || changesInMsgpack(value)).toBe(true)
        }
      }),
      { numRuns: 200 },
    )
  })
})

/**
 * What msgpack does not keep, with or without this writer: -0 comes back as 0 (documented), a lone
 * surrogate as U+FFFD.
 */
function changesInMsgpack(value: unknown): boolean {
  if (Object.is(value, -0)) return true
  if (typeof value === 'string') return LONE_SURROGATE.test(value)
  if (typeof value !== 'object' || value === null || value instanceof Date) return false
  return Object.keys(value).some((k) => LONE_SURROGATE.test(k)) || Object.values(value).some(changesInMsgpack)
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
