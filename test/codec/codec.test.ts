import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CorruptValueError, createCodec, InvalidOptionError, type Serializer } from '../../src/index.js'
import { ROUND_TRIP_VALUES } from '../../src/testing/index.js'
import { cacheValue } from '../support/values.js'

const value = cacheValue({ encoded: true })

describe.each([
  ['msgpack', createCodec()],
  ['json', createCodec({ serializer: 'json' })],
  ['msgpack + gzip', createCodec({ compression: { algorithm: 'gzip', threshold: 0 } })],
  ['json + brotli', createCodec({ serializer: 'json', compression: { algorithm: 'brotli', threshold: 0 } })],
])('codec %s', (_name, codec) => {
  it('round-trips any supported value exactly (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(codec.decode(codec.encode(v))).toStrictEqual(v)
      }),
      { numRuns: 300 },
    )
  })

  it('round-trips the conformance values', () => {
    for (const v of Object.values(ROUND_TRIP_VALUES)) expect(codec.decode(codec.encode(v))).toStrictEqual(v)
  })

  it('keeps Uint8Array and Buffer apart', () => {
    const out = codec.decode(codec.encode({ u: new Uint8Array([1]), b: Buffer.from([1]) })) as Record<
      string,
      unknown
    >
    expect(Buffer.isBuffer(out['b'])).toBe(true)
    expect(Buffer.isBuffer(out['u'])).toBe(false)
  })

  it('writes safe integers as plain digits, so Redis INCRBY works on them', () => {
    expect(Buffer.from(codec.encode(42)).toString()).toBe('42')
    expect(Buffer.from(codec.encode(-7)).toString()).toBe('-7')
    expect(codec.decode(Buffer.from('9007199254740993'))).toBe(9007199254740993n)
    expect(Buffer.from(codec.encode(-0)).toString()).not.toBe('0')
  })

  it('refuses what it cannot encode, naming where', () => {
    expect(() => codec.encode({ a: { b: () => 1 } })).toThrow(/at \$\.a\.b/)
    expect(() => codec.encode(new (class Point {})())).toThrow(
      expect.objectContaining({ code: 'E_VALUE_NOT_ENCODABLE' }),
    )
    expect(() => codec.encode(Symbol('s'))).toThrow(
      expect.objectContaining({ code: 'E_VALUE_NOT_ENCODABLE' }),
    )
    const circular: unknown[] = []
    circular.push(circular)
    expect(() => codec.encode(circular)).toThrow(expect.objectContaining({ code: 'E_VALUE_CIRCULAR' }))
  })

  it('reports foreign or damaged bytes as CorruptValueError', () => {
    const good = codec.encode({ some: 'value', list: [1, 2, 3] })
    for (const bad of [
      Buffer.from('hello'),
      Buffer.alloc(0),
      Buffer.from([0xc1]),
      good.subarray(0, good.length - 2),
    ]) {
      expect(() => codec.decode(bad)).toThrow(CorruptValueError)
    }
  })
})

describe('codec settings', () => {
  it('-0 survives JSON; msgpack reads it back as 0', () => {
    expect(
      Object.is(
        createCodec({ serializer: 'json' }).decode(createCodec({ serializer: 'json' }).encode(-0)),
        -0,
      ),
    ).toBe(true)
    expect(createCodec().decode(createCodec().encode({ z: -0 }))).toStrictEqual({ z: 0 })
  })

  it('reads entries written under other settings (serializer, compression)', () => {
    const writers = [
      createCodec(),
      createCodec({ serializer: 'json' }),
      createCodec({ compression: { algorithm: 'gzip', threshold: 0 } }),
      createCodec({ compression: { algorithm: 'brotli', threshold: 0 } }),
    ]
    const reader = createCodec({ serializer: 'json' })
    const v = { text: 'x'.repeat(2000), when: new Date(5) }
    for (const writer of writers) expect(reader.decode(writer.encode(v))).toStrictEqual(v)
  })

  it('compresses only above the threshold and only when it saves bytes', () => {
    const codec = createCodec({ compression: { algorithm: 'gzip', threshold: 1024 } })
    const plain = createCodec()
    const small = { a: 'x'.repeat(100) }
    const large = { a: 'x'.repeat(10_000) }
    expect(codec.encode(small).byteLength).toBe(plain.encode(small).byteLength)
    expect(codec.encode(large).byteLength).toBeLessThan(plain.encode(large).byteLength / 10)
  })

  it('refuses values over maxValueBytes and bounds decompression', () => {
    const codec = createCodec({ maxValueBytes: 1000 })
    expect(() => codec.encode('x'.repeat(2000))).toThrow(
      expect.objectContaining({ code: 'E_VALUE_TOO_LARGE' }),
    )
    const bomb = createCodec({ compression: { algorithm: 'gzip', threshold: 0 } }).encode('x'.repeat(100_000))
    expect(bomb.byteLength).toBeLessThan(1000)
    expect(() => codec.decode(bomb)).toThrow(CorruptValueError)
  })

  it('decoding JSON never builds anything but data', () => {
    const codec = createCodec({ serializer: 'json' })
    const payload = '{"__proto__":{"polluted":true},"$ck":"object","v":{}}'
    const crafted = Buffer.concat([Buffer.from([0xc1, 2, 0]), Buffer.from(payload)])
    const out = codec.decode(crafted) as Record<string, unknown>
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    const tagged = Buffer.concat([
      Buffer.from([0xc1, 2, 0]),
      Buffer.from('{"$ck":"Function","v":"return 1"}'),
    ])
    expect(() => codec.decode(tagged)).toThrow(CorruptValueError)
  })

  it('accepts a custom serializer with an id of 128-255, and refuses others', () => {
    const upper: Serializer = {
      id: 200,
      name: 'text',
      serialize: (v) => Buffer.from(String(v)),
      deserialize: (b) => Buffer.from(b).toString(),
    }
    const codec = createCodec({ serializer: upper })
    expect(codec.decode(codec.encode('hi'))).toBe('hi')
    expect(() => createCodec({ serializer: { ...upper, id: 1 } })).toThrow(InvalidOptionError)
    expect(() => createCodec({ compression: { algorithm: 'lz4' as 'gzip' } })).toThrow(InvalidOptionError)
  })
})

describe('strings', () => {
  it('keeps a leading U+FEFF (a byte-order mark is text inside a value)', () => {
    const codec = createCodec()
    for (const text of ['\ufeff', '\ufeffabc', `\ufeff${'a'.repeat(40)}`, `x\ufeff`]) {
      expect(codec.decode(codec.encode(text))).toBe(text)
      expect(codec.decode(Uint8Array.from(codec.encode({ text })))).toStrictEqual({ text })
    }
  })
})
