import { Packr } from 'msgpackr'
import { readMsgpack } from './msgpack-reader.js'
import { DEFAULT_LIMITS, type DecodeLimits, setOwn, TYPED_ARRAYS } from './value.js'

/**
 * Turns a checked value into bytes and back. `id` is written into every entry's header so that an
 * entry stays readable after the cache switches serializer: ids 1 and 2 are cachekit's own,
 * 128 to 255 are free for yours.
 */
export interface Serializer {
  readonly id: number
  readonly name: string
  serialize(value: unknown): Uint8Array
  deserialize(bytes: Uint8Array): unknown
}

/** How the msgpack serializer's msgpackr writes; msgpack-writer.ts writes the same bytes for plain data. */
export const PACKR_OPTIONS = Object.freeze({
  // No structured clone: its reference extensions are exactly what a planted entry abuses.
  structuredClone: false,
  useRecords: true,
  mapsAsObjects: false,
  useBigIntExtension: true,
  moreTypes: true,
})

/**
 * MessagePack: written by msgpackr, objects as self-describing records (compact for repeated
 * shapes, readable by any process without shared state), `Map` as MessagePack maps, msgpackr's
 * extensions for `Set`, typed arrays and `undefined`, and bigints of any size. Nothing is written by
 * reference: a part used twice is written twice and comes back as two copies. Read by cachekit's own
 * strict reader, which builds only cache values within `limits` and refuses every other extension.
 */
export function msgpackSerializer(limits: DecodeLimits = DEFAULT_LIMITS): Serializer {
  const packr = new Packr({ ...PACKR_OPTIONS })
  const serializer: Serializer = {
    id: 1,
    name: 'msgpack',
    serialize: (value) => packr.pack(value),
    deserialize: (bytes) => readMsgpack(bytes, limits),
  }
  MSGPACK_SERIALIZERS.add(serializer)
  return serializer
}

/**
 * The serializers {@link msgpackSerializer} made: the codec writes plain data for these with
 * `packPlain` (msgpack-writer.ts), which writes the bytes their msgpackr would.
 */
export const MSGPACK_SERIALIZERS = new WeakSet<Serializer>()

const TAG = '$ck'

/**
 * JSON for interop with programs in other languages: JSON-native values are written as they are;
 * everything JSON cannot say (Date, Map, Set, bigint, bytes, undefined, NaN) becomes a tagged
 * object `{"$ck": type, "v": ...}`, and a plain object that happens to have a `$ck` member is
 * wrapped, so decoding is never ambiguous. Decoding builds data only; it never runs code.
 */
export function jsonSerializer(limits: DecodeLimits = DEFAULT_LIMITS): Serializer {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  return {
    id: 2,
    name: 'json',
    serialize: (value) => encoder.encode(JSON.stringify(toJson(value))),
    deserialize: (bytes) => new JsonReader(limits).read(JSON.parse(decoder.decode(bytes)), 0),
  }
}

function toJson(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      return { [TAG]: 'number', v: Object.is(value, -0) ? '-0' : String(value) }
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() }
    case 'undefined':
      return { [TAG]: 'undefined' }
    case 'object':
      break
    default:
      return value
  }
  if (value === null) return null
  if (Array.isArray(value)) return value.map(toJson)
  if (value instanceof Date) {
    const time = value.getTime()
    return { [TAG]: 'Date', v: Number.isNaN(time) ? null : time }
  }
  if (value instanceof Map) return { [TAG]: 'Map', v: Array.from(value, ([k, v]) => [toJson(k), toJson(v)]) }
  if (value instanceof Set) return { [TAG]: 'Set', v: Array.from(value, toJson) }
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    const type = Buffer.isBuffer(value) ? 'Buffer' : value.constructor.name
    return { [TAG]: 'bytes', t: type, v: bytes.toString('base64') }
  }
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(value)) setOwn(out, name, toJson((value as Record<string, unknown>)[name]))
  return Object.hasOwn(out, TAG) ? { [TAG]: 'object', v: out } : out
}

const TYPED_ARRAY_BY_NAME: Readonly<Record<string, new (buffer: ArrayBuffer) => ArrayBufferView>> =
  Object.fromEntries(TYPED_ARRAYS.map((Ctor) => [Ctor.name, Ctor]))

/** Turns parsed JSON back into cache values, within a node and a depth budget. */
class JsonReader {
  private nodes = 0

  constructor(private readonly limits: DecodeLimits) {}

  read(value: unknown, depth: number): unknown {
    if (++this.nodes > this.limits.maxNodes) {
      throw new RangeError(`it holds more than ${this.limits.maxNodes} values (the node budget)`)
    }
    if (value === null || typeof value !== 'object') return value
    if (depth >= this.limits.maxDepth) {
      throw new RangeError(`it is nested deeper than ${this.limits.maxDepth} levels (the depth budget)`)
    }
    const inner = depth + 1
    if (Array.isArray(value)) return value.map((item) => this.read(item, inner))
    const record = value as Record<string, unknown>
    const tag = record[TAG]
    if (tag === undefined) return this.object(record, inner)
    const v = record['v']
    switch (tag) {
      case 'number':
        if (typeof v !== 'string') throw new TypeError('a tagged number is not text')
        return Number(v)
      case 'bigint':
        return BigInt(v as string)
      case 'undefined':
        return undefined
      case 'Date':
        if (v !== null && typeof v !== 'number') throw new TypeError('a tagged Date is not a time')
        return new Date(v === null ? Number.NaN : (v as number))
      case 'Map':
        return new Map(this.list(v).map((pair) => this.pair(pair, inner)))
      case 'Set':
        return new Set(this.list(v).map((item) => this.read(item, inner)))
      case 'bytes':
        return fromBase64(v as string, record['t'] as string)
      case 'object':
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          throw new TypeError('a tagged object is not one')
        return this.object(v as Record<string, unknown>, inner)
      default:
        throw new TypeError(`unknown JSON tag ${JSON.stringify(tag)}`)
    }
  }

  private object(record: Record<string, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const name of Object.keys(record)) setOwn(out, name, this.read(record[name], depth))
    return out
  }

  private list(v: unknown): unknown[] {
    if (!Array.isArray(v)) throw new TypeError('a tagged Map or Set does not hold an array')
    return v
  }

  private pair(pair: unknown, depth: number): [unknown, unknown] {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('a Map entry is not a pair')
    return [this.read(pair[0], depth), this.read(pair[1], depth)]
  }
}

function fromBase64(text: string, type: string): ArrayBufferView {
  if (typeof text !== 'string') throw new TypeError('bytes are not base64 text')
  const bytes = Buffer.from(text, 'base64')
  if (type === 'Buffer') return bytes
  const Ctor = Object.hasOwn(TYPED_ARRAY_BY_NAME, type) ? TYPED_ARRAY_BY_NAME[type] : undefined
  if (!Ctor) throw new TypeError(`unknown typed array ${JSON.stringify(type)}`)
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  return new Ctor(buffer)
}
