import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readMsgpack } from '../../src/codec/msgpack-reader.js'
import { msgpackSerializer } from '../../src/codec/serializers.js'
import { CorruptValueError, createCodec } from '../../src/index.js'

/**
 * Record shapes are remembered across entries by their bytes and, once common, built by a compiled
 * object literal (src/codec/record-builders.ts). Every test decodes each shape many times, so the
 * table path and the compiled path are both taken, and compares with what was written.
 */
const codec = createCodec()
const REPEAT = 20

function roundTrips(value: unknown): void {
  const bytes = codec.encode(value)
  // node's own deep equality: vitest's reads a member named `constructor` as the class.
  for (let i = 0; i < REPEAT; i++) expect(isDeepStrictEqual(codec.decode(bytes), value)).toBe(true)
}

describe('record shapes remembered across entries', () => {
  it('reads objects back exactly, whatever their member names, once the shape is compiled', () => {
    const name = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        'constructor',
        'toString',
        'hasOwnProperty',
        '0',
        '42',
        '-1',
        '"',
        '\\',
        '\u2028',
        '\u2029',
        '}',
        '$' + '{x}',
        '`',
        "'",
      ),
    )
    const member = fc.oneof(
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
    )
    const object = fc.dictionary(
      name.filter((k) => k !== '__proto__'),
      member,
      { minKeys: 1, maxKeys: 10, noNullPrototype: true },
    )
    fc.assert(
      fc.property(fc.array(object, { minLength: 1, maxLength: 4 }), (objects) => roundTrips(objects)),
      { numRuns: 150 },
    )
  })

  it('never lets a member name become code', () => {
    const hostile = [
      'a":globalThis.__ckPwned=1,"b',
      "a':globalThis.__ckPwned=1,'b",
      'a}),globalThis.__ckPwned=1,({b',
      '\\":globalThis.__ckPwned=1,\\"',
      'a\u2028globalThis.__ckPwned=1',
    ]
    for (const key of hostile) roundTrips({ [key]: 1, other: 'x' })
    expect((globalThis as Record<string, unknown>)['__ckPwned']).toBeUndefined()
  })

  it('keeps a member named __proto__ as data on every decode', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"y":2}') as Record<string, unknown>
    const bytes = codec.encode(value)
    for (let i = 0; i < REPEAT; i++) {
      const out = codec.decode(bytes) as Record<string, unknown>
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual({ x: 1 })
    }
  })

  it('tells apart shapes whose definitions differ by one byte', () => {
    const a = codec.encode([{ ab: 1, c: 2 }])
    const b = codec.encode([{ ac: 1, c: 2 }])
    for (let i = 0; i < REPEAT; i++) {
      expect(codec.decode(a)).toStrictEqual([{ ab: 1, c: 2 }])
      expect(codec.decode(b)).toStrictEqual([{ ac: 1, c: 2 }])
    }
  })

  it('stays correct past the table size (the table starts over)', () => {
    for (let i = 0; i < 3000; i++) {
      const value = { [`member${i}`]: i, shared: 'x' }
      expect(codec.decode(codec.encode(value))).toStrictEqual(value)
    }
    roundTrips({ member7: 7, shared: 'x' })
  })

  it('charges a remembered shape to the node and depth budgets as a decoded one', () => {
    const serializer = msgpackSerializer()
    const payload = serializer.serialize({ a: 1, b: 2, c: 3 })
    // Warm the table and the compiled builder with the default limits.
    for (let i = 0; i < REPEAT; i++) readMsgpack(payload, { maxNodes: 1000, maxDepth: 10 })
    // The record (1), its names list (1 + 3) and its 3 values: 8 nodes.
    expect(readMsgpack(payload, { maxNodes: 8, maxDepth: 10 })).toStrictEqual({ a: 1, b: 2, c: 3 })
    expect(() => readMsgpack(payload, { maxNodes: 7, maxDepth: 10 })).toThrow(/node budget/)
    // The names list sits one level below the record.
    expect(() => readMsgpack(payload, { maxNodes: 1000, maxDepth: 1 })).toThrow(/depth budget/)
  })

  it('refuses an entry cut short inside a remembered definition', () => {
    const bytes = codec.encode({ alpha: 1, beta: 2 })
    for (let i = 0; i < REPEAT; i++) codec.decode(bytes)
    for (let cut = 4; cut < bytes.byteLength; cut++) {
      expect(() => codec.decode(bytes.subarray(0, cut))).toThrow(CorruptValueError)
    }
  })
})

describe('record shapes without code generation', () => {
  it('builds objects member by member where code generation from strings is disabled', () => {
    const fixture = fileURLToPath(new URL('../support/fixtures/decode-without-codegen.ts', import.meta.url))
    const out = execFileSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', fixture],
      { encoding: 'utf8', timeout: 60_000 },
    )
    expect(out).toBe('ok')
  })
})
