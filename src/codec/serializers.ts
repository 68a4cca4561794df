import { Packr } from 'msgpackr'
import { setOwn } from './value.js'

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

/**
 * MessagePack through msgpackr: objects as self-describing records (compact for repeated shapes,
 * readable by any process without shared state), MessagePack maps decoded as `Map`, structured
 * clone extensions for `Set`, typed arrays and `undefined`, and bigints of any size.
 */
export function msgpackSerializer(): Serializer {
  const packr = new Packr({
    structuredClone: true,
    useRecords: true,
    mapsAsObjects: false,
    useBigIntExtension: true,
    moreTypes: true,
  })
  return {
    id: 1,
    name: 'msgpack',
    serialize: (value) => packr.pack(value),
    deserialize: (bytes) => packr.unpack(bytes),
  }
}

const TAG = '$ck'

/**
 * JSON for interop with programs in other languages: JSON-native values are written as they are;
 * everything JSON cannot say (Date, Map, Set, bigint, bytes, undefined, NaN) becomes a tagged
 * object `{"$ck": type, "v": ...}`, and a plain object that happens to have a `$ck` member is
 * wrapped, so decoding is never ambiguous. Decoding builds data only; it never runs code.
 */
export function jsonSerializer(): Serializer {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  return {
    id: 2,
    name: 'json',
    serialize: (value) => encoder.encode(JSON.stringify(toJson(value))),
    deserialize: (bytes) => fromJson(JSON.parse(decoder.decode(bytes))),
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

const TYPED_ARRAYS: Readonly<Record<string, new (buffer: ArrayBuffer) => ArrayBufferView>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
}

function fromJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(fromJson)
  const record = value as Record<string, unknown>
  const tag = record[TAG]
  if (tag === undefined) {
    const out: Record<string, unknown> = {}
    for (const name of Object.keys(record)) setOwn(out, name, fromJson(record[name]))
    return out
  }
  const v = record['v']
  switch (tag) {
    case 'number':
      return Number(v)
    case 'bigint':
      return BigInt(v as string)
    case 'undefined':
      return undefined
    case 'Date':
      return new Date(v === null ? Number.NaN : (v as number))
    case 'Map':
      return new Map((v as [unknown, unknown][]).map(([k, item]) => [fromJson(k), fromJson(item)]))
    case 'Set':
      return new Set((v as unknown[]).map(fromJson))
    case 'bytes':
      return fromBase64(v as string, record['t'] as string)
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [name, item] of Object.entries(v as Record<string, unknown>))
        setOwn(out, name, fromJson(item))
      return out
    }
    default:
      throw new TypeError(`unknown JSON tag ${JSON.stringify(tag)}`)
  }
}

function fromBase64(text: string, type: string): ArrayBufferView {
  const bytes = Buffer.from(text, 'base64')
  if (type === 'Buffer') return bytes
  const Ctor = TYPED_ARRAYS[type]
  if (!Ctor) throw new TypeError(`unknown typed array ${JSON.stringify(type)}`)
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  return new Ctor(buffer)
}
