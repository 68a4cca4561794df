import { CorruptValueError, InvalidOptionError } from '../errors.js'
import { checkValueBytes, maxValueBytesOption } from '../internal/index.js'
import { type CompressionOptions, type Compressor, createCompressor, decompress } from './compression.js'
import { packPlain } from './msgpack-writer.js'
import { isPlainData } from './plain-data.js'
import { jsonSerializer, MSGPACK_SERIALIZERS, msgpackSerializer, type Serializer } from './serializers.js'
import { DEFAULT_LIMITS, Envelope, snapshot } from './value.js'

/** Encodes cache values for stores that keep bytes (Redis, SQL) and decodes them back. */
export interface Codec {
  readonly name: string
  /** Checks and encodes a value; throws a typed error and encodes nothing when it cannot be stored. */
  encode(value: unknown): Uint8Array
  /**
   * Decodes an entry; throws {@link CorruptValueError} for bytes cachekit did not write, for
   * anything outside the value set and for values over the node or depth budget.
   */
  decode(bytes: Uint8Array): unknown
}

/** Options of `createCodec`: serializer, compression and the value size limit. */
export interface CodecOptions {
  /** `'msgpack'` (default: fastest, compact), `'json'` (readable by other languages) or your own. */
  readonly serializer?: 'msgpack' | 'json' | Serializer
  /** Compress encoded values at or above a size; `false` (default) never compresses. */
  readonly compression?: CompressionOptions | false
  /**
   * The largest entry, in bytes as stored (header included, after compression); also the most an
   * entry may decompress to. Larger values are refused with `E_VALUE_TOO_LARGE`. Default 16 MiB.
   */
  readonly maxValueBytes?: number
}

/**
 * Entry layout. A safe integer is written as its decimal ASCII digits and nothing else, so that
 * Redis `INCRBY` and SQL arithmetic work on it in place. Every other entry starts with a 3-byte
 * header: 0xC1 (a byte MessagePack never uses and no text starts with), the serializer id, and
 * flags (bits 0-1: compression; bit 2: an envelope follows: a float64 "stale at" time, for grace
 * periods, then, with bit 3, the entry's tags as a u16 count of u16-length UTF-8 strings).
 */
const MAGIC = 0xc1
const FLAG_ENVELOPE = 0b100
const FLAG_TAGS = 0b1000
const HEADER = 3
const ENVELOPE_BYTES = 8
const INTEGER_TEXT = /^-?(?:0|[1-9]\d{0,19})$/

/** Builds the codec that turns values into bytes for stores that keep bytes (Redis, SQL). */
export function createCodec(options: CodecOptions = {}): Codec {
  const serializer = resolveSerializer(options.serializer ?? 'msgpack')
  const maxValueBytes = maxValueBytesOption('codec', options.maxValueBytes)
  const compressor: Compressor | undefined = options.compression
    ? createCompressor(options.compression)
    : undefined
  const readers = new Map<number, Serializer>()
  for (const s of [msgpackSerializer(), jsonSerializer(), serializer]) readers.set(s.id, s)
  // cachekit's own readers build only cache values; what your serializer returns is checked.
  const trusted = new Set([1, 2])
  const writesPlain = MSGPACK_SERIALIZERS.has(serializer)

  function encode(value: unknown): Uint8Array {
    if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) {
      return Buffer.from(String(value), 'latin1')
    }
    let flags = 0
    let envelope: Buffer | undefined
    let inner = value
    if (value instanceof Envelope) {
      flags |= FLAG_ENVELOPE
      if (value.tags && value.tags.length > 0) flags |= FLAG_TAGS
      envelope = encodeEnvelope(value)
      inner = value.value
    }
    const extra = envelope ? envelope.byteLength : 0
    // Plain data is checked and written in one walk, straight after the header's room.
    const plain = writesPlain ? packPlain(inner, compressor ? 0 : HEADER + extra) : undefined
    if (plain !== undefined && !compressor) {
      checkValueBytes(plain.byteLength, maxValueBytes)
      plain[0] = MAGIC
      plain[1] = serializer.id
      plain[2] = flags
      if (envelope) plain.set(envelope, HEADER)
      return plain
    }
    if (plain === undefined && !isPlainData(value)) snapshot(value, 'check')
    let payload = plain ?? serializer.serialize(inner)
    if (compressor && payload.byteLength >= compressor.threshold) {
      const packed = compressor.compress(payload)
      if (packed.byteLength < payload.byteLength) {
        payload = packed
        flags |= compressor.code
      }
    }
    const total = HEADER + extra + payload.byteLength
    checkValueBytes(total, maxValueBytes)
    const out = Buffer.allocUnsafe(total)
    out[0] = MAGIC
    out[1] = serializer.id
    out[2] = flags
    if (envelope) out.set(envelope, HEADER)
    out.set(payload, HEADER + extra)
    return out
  }

  function decode(bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) throw corrupt('the entry is empty')
    if (bytes[0] !== MAGIC) return decodeInteger(bytes)
    if (bytes.byteLength < HEADER) throw corrupt('the header is cut short')
    const reader = readers.get(bytes[1] as number)
    if (!reader) throw corrupt(`it was written by serializer #${bytes[1]}, which this cache does not have`)
    const flags = bytes[2] as number
    let offset = HEADER
    let staleAt: number | undefined
    let tags: string[] | undefined
    if (flags & FLAG_ENVELOPE) {
      const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      try {
        staleAt = view.readDoubleBE(offset)
        offset += ENVELOPE_BYTES
        if (flags & FLAG_TAGS) [tags, offset] = decodeTags(view, offset)
      } catch {
        throw corrupt('the header is cut short')
      }
    }
    let payload = bytes.subarray(offset)
    let value: unknown
    try {
      const compression = flags & 0b11
      if (compression) payload = decompress(compression, payload, maxValueBytes)
      value = reader.deserialize(payload)
      if (!trusted.has(reader.id)) {
        if (value instanceof Envelope) throw new TypeError('the serializer returned an envelope')
        snapshot(value, 'check', DEFAULT_LIMITS)
      }
    } catch (error) {
      throw corrupt(`${reader.name} could not decode it`, error)
    }
    return staleAt === undefined ? value : new Envelope(value, staleAt, tags)
  }

  return { name: serializer.name, encode, decode }
}

function encodeEnvelope(envelope: Envelope): Buffer {
  const tags = envelope.tags ?? []
  const parts = tags.map((tag) => Buffer.from(tag, 'utf8'))
  const out = Buffer.allocUnsafe(
    ENVELOPE_BYTES + (parts.length ? 2 + parts.reduce((n, p) => n + 2 + p.length, 0) : 0),
  )
  out.writeDoubleBE(envelope.staleAt, 0)
  if (parts.length) {
    let at = out.writeUInt16BE(parts.length, ENVELOPE_BYTES)
    for (const part of parts) {
      at = out.writeUInt16BE(part.length, at)
      at += part.copy(out, at)
    }
  }
  return out
}

function decodeTags(view: Buffer, start: number): [string[], number] {
  const count = view.readUInt16BE(start)
  let at = start + 2
  const tags: string[] = []
  for (let i = 0; i < count; i++) {
    const length = view.readUInt16BE(at)
    at += 2
    if (at + length > view.byteLength) throw new RangeError('tag runs past the entry')
    tags.push(view.toString('utf8', at, at + length))
    at += length
  }
  return [tags, at]
}

function decodeInteger(bytes: Uint8Array): number | bigint {
  const text = bytes.byteLength <= 21 ? Buffer.from(bytes).toString('latin1') : ''
  if (!INTEGER_TEXT.test(text)) throw corrupt('it is neither a cachekit entry nor an integer')
  const n = Number(text)
  // Redis INCRBY can carry a counter past 2^53; return it exactly rather than rounded.
  return Number.isSafeInteger(n) ? n : BigInt(text)
}

function corrupt(why: string, cause?: unknown): CorruptValueError {
  return new CorruptValueError(
    `Stored entry cannot be read: ${why}. It is treated as a miss; delete it or let it expire`,
    { cause },
  )
}

function resolveSerializer(option: 'msgpack' | 'json' | Serializer): Serializer {
  if (option === 'msgpack') return msgpackSerializer()
  if (option === 'json') return jsonSerializer()
  if (
    typeof option === 'object' &&
    option !== null &&
    typeof option.serialize === 'function' &&
    typeof option.deserialize === 'function' &&
    Number.isInteger(option.id) &&
    option.id >= 128 &&
    option.id <= 255
  ) {
    return option
  }
  throw new InvalidOptionError(
    "serializer must be 'msgpack', 'json', or an object { id (128-255), name, serialize, deserialize }",
  )
}

/**
 * An encoded entry made stale at `staleAt` (epoch ms), its value and tags kept: what
 * `expireByTag` writes back. An entry already stale earlier is returned as it is; a bare integer
 * (no header to say it) gives `undefined`, and the caller deletes it instead.
 */
export function staleEntry(bytes: Uint8Array, staleAt: number): Uint8Array | undefined {
  if (bytes.byteLength < HEADER || bytes[0] !== MAGIC) return undefined
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const flags = bytes[2] as number
  if (flags & FLAG_ENVELOPE) {
    if (view.byteLength < HEADER + ENVELOPE_BYTES || view.readDoubleBE(HEADER) <= staleAt) return bytes
    const out = Buffer.from(view)
    out.writeDoubleBE(staleAt, HEADER)
    return out
  }
  const out = Buffer.allocUnsafe(view.byteLength + ENVELOPE_BYTES)
  out[0] = MAGIC
  out[1] = bytes[1] as number
  out[2] = flags | FLAG_ENVELOPE
  out.writeDoubleBE(staleAt, HEADER)
  view.copy(out, HEADER + ENVELOPE_BYTES, HEADER)
  return out
}

/**
 * The part of an entry that `expireByTag` never changes (the header without its "stale at"
 * time): what stores fingerprint so a tag still recognises an entry after it was made stale.
 */
export function stablePart(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < HEADER + ENVELOPE_BYTES || bytes[0] !== MAGIC) return bytes
  const flags = bytes[2] as number
  if (!(flags & FLAG_ENVELOPE)) return bytes
  const out = Buffer.allocUnsafe(bytes.byteLength - ENVELOPE_BYTES)
  out[0] = MAGIC
  out[1] = bytes[1] as number
  out[2] = flags & ~FLAG_ENVELOPE
  out.set(bytes.subarray(HEADER + ENVELOPE_BYTES), HEADER)
  return out
}
