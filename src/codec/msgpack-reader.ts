import { definitionEnd, hashBytes, knownShape, type RecordBuilder, rememberShape } from './record-builders.js'
import { type DecodeLimits, setOwn, TYPED_ARRAYS } from './value.js'

/** A record shape of this entry: its member names and, once the shape is common, its builder. */
interface Shape {
  readonly names: readonly string[]
  readonly build: RecordBuilder | undefined
}

/**
 * A MessagePack reader that builds cache values and nothing else. It reads what cachekit's
 * msgpackr writer produces (standard MessagePack plus msgpackr's inline records and its `undefined`,
 * `Set`, typed array and big integer extensions, and timestamps for `Date`) and refuses everything
 * else: references of structured clones (which let a few hundred bytes stand for a graph of 2^40
 * nodes; the one pointer followed is to a record's list of member names, which builds nothing
 * shared), `Error`, `RegExp`, `ArrayBuffer`, `DataView`, shared or two-byte records and unknown
 * extensions. Every value counts against a node budget and every container
 * against a depth budget, so the work and the result are bounded by the budget and by the bytes.
 *
 * msgpackr's own reader is not used for decoding: it decodes `Error` and `RegExp` whatever its
 * options say, and its extension table is shared by the whole process (any `addExtension` call
 * anywhere would widen what a cache entry can turn into).
 */
export function readMsgpack(bytes: Uint8Array, limits: DecodeLimits): unknown {
  const reader = new Reader(bytes, limits)
  const value = reader.read(0)
  if (reader.pos !== bytes.byteLength) throw new RangeError('bytes are left over after the value')
  return value
}

const EXT_UNDEFINED = 0x00
const EXT_BIGINT = 0x42
const EXT_ID = 0x69
const EXT_POINTER = 0x70
const EXT_RECORD = 0x72
const EXT_SET = 0x73
const EXT_TYPED_ARRAY = 0x74
const EXT_TIMESTAMP = 0xff

/** Keeps a leading U+FEFF: by default a TextDecoder drops it, which lost it from stored strings. */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

class Reader {
  pos = 0
  private nodes = 0
  private readonly view: DataView
  private readonly end: number
  /** Record shapes (member names) defined so far in this entry, by id 0-63. */
  private readonly records: (Shape | undefined)[] = []
  /**
   * Member-name lists that carried a structured-clone id. The earlier writer (msgpackr with
   * structured clones) re-used one names array when a record id came round again, so its entries
   * point back at such a list; a pointer is followed there and nowhere else.
   */
  private names: Map<number, readonly string[]> | undefined

  constructor(
    private readonly src: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength)
    this.end = src.byteLength
  }

  read(depth: number): unknown {
    if (++this.nodes > this.limits.maxNodes) throw this.overBudget()
    const token = this.byte()
    if (token < 0x40) return token
    if (token < 0x80) {
      const shape = this.records[token & 0x3f]
      // msgpackr reads 0x40-0x7f as a plain integer when no record of that id was defined.
      return shape ? this.record(shape, depth) : token
    }
    if (token < 0x90) return this.map(token - 0x80, depth)
    if (token < 0xa0) return this.array(token - 0x90, depth)
    if (token < 0xc0) return this.string(token - 0xa0)
    if (token >= 0xe0) return token - 0x100
    const view = this.view
    switch (token) {
      case 0xc0:
        return null
      case 0xc2:
        return false
      case 0xc3:
        return true
      case 0xc4:
        return this.bin(this.byte(), depth)
      case 0xc5:
        return this.bin(view.getUint16(this.take(2)), depth)
      case 0xc6:
        return this.bin(view.getUint32(this.take(4)), depth)
      case 0xc7:
        return this.ext(this.byte(), depth)
      case 0xc8:
        return this.ext(view.getUint16(this.take(2)), depth)
      case 0xc9:
        return this.ext(view.getUint32(this.take(4)), depth)
      case 0xca:
        return view.getFloat32(this.take(4))
      case 0xcb:
        return view.getFloat64(this.take(8))
      case 0xcc:
        return this.byte()
      case 0xcd:
        return view.getUint16(this.take(2))
      case 0xce:
        return view.getUint32(this.take(4))
      case 0xcf:
        return view.getBigUint64(this.take(8))
      case 0xd0:
        return view.getInt8(this.take(1))
      case 0xd1:
        return view.getInt16(this.take(2))
      case 0xd2:
        return view.getInt32(this.take(4))
      case 0xd3:
        return view.getBigInt64(this.take(8))
      case 0xd4:
        return this.fixext1(depth)
      case 0xd5:
        return this.ext(2, depth)
      case 0xd6:
        return this.ext(4, depth)
      case 0xd7:
        return this.ext(8, depth)
      case 0xd8:
        return this.ext(16, depth)
      case 0xd9:
        return this.string(this.byte())
      case 0xda:
        return this.string(view.getUint16(this.take(2)))
      case 0xdb:
        return this.string(view.getUint32(this.take(4)))
      case 0xdc:
        return this.array(view.getUint16(this.take(2)), depth)
      case 0xdd:
        return this.array(view.getUint32(this.take(4)), depth)
      case 0xde:
        return this.map(view.getUint16(this.take(2)), depth)
      case 0xdf:
        return this.map(view.getUint32(this.take(4)), depth)
    }
    throw new RangeError(`byte 0x${token.toString(16)} does not start a MessagePack value`)
  }

  private overBudget(): RangeError {
    return new RangeError(`it holds more than ${this.limits.maxNodes} values (the node budget)`)
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('the value is cut short')
    return this.src[this.pos++] as number
  }

  /** Reserves `n` bytes and returns where they start. */
  private take(n: number): number {
    const at = this.pos
    if (at + n > this.end) throw new RangeError('the value is cut short')
    this.pos = at + n
    return at
  }

  /** Refuses a container past the depth budget and a length the remaining bytes cannot hold. */
  private enter(depth: number, items: number): void {
    if (depth >= this.limits.maxDepth) {
      throw new RangeError(`it is nested deeper than ${this.limits.maxDepth} levels (the depth budget)`)
    }
    // Every item takes at least one byte: a length beyond the bytes left is a lie, not a big value.
    if (items > this.end - this.pos) throw new RangeError('a length runs past the end of the value')
  }

  private string(length: number): string {
    const start = this.take(length)
    const src = this.src
    if (length < 24) {
      let out = ''
      for (let i = start; i < start + length; i++) {
        const c = src[i] as number
        if (c >= 0x80) return this.utf8(start, start + length)
        out += String.fromCharCode(c)
      }
      return out
    }
    return this.utf8(start, start + length)
  }

  /** UTF-8 text (malformed bytes become U+FFFD); a Buffer's own decoder is the faster one. */
  private utf8(start: number, end: number): string {
    const src = this.src
    return src instanceof Buffer ? src.toString('utf8', start, end) : decoder.decode(src.subarray(start, end))
  }

  private bin(length: number, depth: number): Buffer {
    this.enter(depth, 0)
    const start = this.take(length)
    return Buffer.from(this.src.subarray(start, start + length))
  }

  private array(length: number, depth: number): unknown[] {
    this.enter(depth, length)
    const out = new Array<unknown>(length)
    for (let i = 0; i < length; i++) out[i] = this.read(depth + 1)
    return out
  }

  private map(length: number, depth: number): Map<unknown, unknown> {
    this.enter(depth, length * 2)
    const out = new Map<unknown, unknown>()
    for (let i = 0; i < length; i++) {
      const key = this.read(depth + 1)
      out.set(key, this.read(depth + 1))
    }
    return out
  }

  private record(shape: Shape, depth: number): Record<string, unknown> {
    const names = shape.names
    this.enter(depth, names.length)
    if (shape.build !== undefined) return shape.build(this, depth + 1)
    const out: Record<string, unknown> = {}
    for (const name of names) setOwn(out, name, this.read(depth + 1))
    return out
  }

  /** A record definition: an id, the member names, then the first object of that shape. */
  private defineRecord(id: number, depth: number): Record<string, unknown> {
    const src = this.src
    const start = this.pos
    const end = definitionEnd(src, start, this.end)
    if (end > 0) {
      // Seen before (by its bytes): the names come from the table, charged to the budgets as if read.
      const hash = hashBytes(src, start, end)
      const known = knownShape(src, start, end, hash)
      if (known !== undefined) {
        this.nodes += known.names.length + 1
        if (this.nodes > this.limits.maxNodes) throw this.overBudget()
        this.enter(depth + 1, 0)
        this.pos = end
        this.records[id & 0x3f] = known
        return this.record(known, depth)
      }
      const names = this.read(depth + 1) as string[]
      rememberShape(src, start, end, hash, names)
      const shape: Shape = { names, build: undefined }
      this.records[id & 0x3f] = shape
      return this.record(shape, depth)
    }
    const names =
      src[this.pos] === 0xd6 && src[this.pos + 1] === EXT_POINTER
        ? this.names?.get(this.view.getUint32(this.take(6) + 2))
        : this.read(depth + 1)
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
      throw new TypeError('a record definition does not list member names')
    }
    const shape: Shape = { names: names as string[], build: undefined }
    this.records[id & 0x3f] = shape
    return this.record(shape, depth)
  }

  private fixext1(depth: number): unknown {
    const type = this.byte()
    const data = this.byte()
    switch (type) {
      case EXT_UNDEFINED:
        return undefined
      case EXT_RECORD:
        if (data < 0x40 || data > 0x7f) throw new RangeError('a record id is out of range')
        return this.defineRecord(data, depth)
      case EXT_SET: {
        this.enter(depth, 0)
        const items = this.read(depth)
        if (!Array.isArray(items)) throw new TypeError('a Set does not hold an array of items')
        return new Set(items)
      }
      case EXT_TIMESTAMP:
        // msgpackr's writer marks an invalid Date with a one-byte timestamp.
        this.enter(depth, 0)
        return new Date(Number.NaN)
    }
    this.pos -= 2
    return this.ext(1, depth)
  }

  private ext(length: number, depth: number): unknown {
    const type = this.byte()
    const start = this.take(length)
    const data = this.src.subarray(start, start + length)
    switch (type) {
      case EXT_BIGINT:
        return bigIntFrom(data)
      case EXT_TYPED_ARRAY: {
        this.enter(depth, 0)
        const Ctor = TYPED_ARRAYS[data[0] ?? -1]
        if (!Ctor)
          throw new TypeError('a typed array has an unknown type (ArrayBuffer and DataView are not values)')
        // A fresh buffer of its own: the entry's bytes may sit at any offset of a shared pool.
        const copy = new Uint8Array(length - 1)
        copy.set(data.subarray(1))
        return new Ctor(copy.buffer)
      }
      case EXT_TIMESTAMP:
        this.enter(depth, 0)
        return timestamp(this.view, start, length)
      case EXT_ID: {
        // An id only names the value that follows; what matters is never following a pointer to it.
        if (length !== 4) throw new RangeError('a structured-clone id is not 4 bytes')
        const value = this.read(depth)
        if (Array.isArray(value) && value.every((name) => typeof name === 'string')) {
          this.names ??= new Map()
          this.names.set(new DataView(data.buffer, data.byteOffset, 4).getUint32(0), value)
        }
        return value
      }
    }
    throw new TypeError(
      `extension type ${type} is not a cache value (references, Error and RegExp are refused)`,
    )
  }
}

/** A two's-complement big-endian integer of any length, as msgpackr's bigint extension writes it. */
function bigIntFrom(data: Uint8Array): bigint {
  if (data.byteLength === 0) throw new RangeError('an empty big integer')
  const magnitude = BigInt(`0x${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')}`)
  return (data[0] as number) & 0x80 ? magnitude - (1n << BigInt(data.byteLength * 8)) : magnitude
}

/** The MessagePack timestamp extension (32, 64 and 96 bits) at `at` of the entry, as a `Date`. */
function timestamp(view: DataView, at: number, length: number): Date {
  switch (length) {
    case 4:
      return new Date(view.getUint32(at) * 1000)
    case 8: {
      const high = view.getUint32(at)
      const nanos = high >>> 2
      const seconds = (high & 0x3) * 0x100000000 + view.getUint32(at + 4)
      return new Date(seconds * 1000 + nanos / 1e6)
    }
    case 12:
      return new Date(Number(view.getBigInt64(at + 4)) * 1000 + view.getUint32(at) / 1e6)
  }
  throw new RangeError('a timestamp has an unknown length')
}
