/**
 * The MessagePack write path for plain data: strings, numbers, booleans, `null`, `undefined`,
 * plain objects, arrays and `Date`s. One walk both decides that a value is plain data (what
 * `isPlainData` and the full check would accept) and writes it, where the general path walks the
 * value twice (the check, then msgpackr). It writes exactly the bytes msgpackr writes with the
 * msgpack serializer's options (a property test holds the two side by side), so entries stay
 * readable by every cachekit version and the reader needs no change:
 *
 * - an object is a record: the first object of a shape in an entry defines it (`d4 72 id` and the
 *   array of member names), later ones write the id alone; ids run from 0x40 in order of first use;
 * - integers below 0x40 are single bytes (0x40-0x7f are record ids), other 32-bit integers take
 *   the smallest MessagePack integer, every other number a float64;
 * - strings shorter than 64 characters are encoded by hand as msgpackr does (a lone surrogate as
 *   three bytes), longer ones by Buffer's UTF-8 encoder.
 *
 * Anything else (a Map, a Set, a typed array, a bigint, a class instance, a part nested deeper than
 * 32 levels or past 100,000 parts, more than 64 shapes in one value) gives `undefined`, and the
 * caller takes the general path, which checks the value with a path in its error and packs it with
 * msgpackr. The member-name arrays of shapes seen before are kept, encoded, in a tree of at most
 * 4,096 nodes that starts over when full.
 */

const MAX_DEPTH = 32
const MAX_PARTS = 100_000
/** Record ids 0x40-0x7f: msgpackr starts reusing them after 64 shapes, which this path leaves to it. */
const LAST_RECORD_ID = 0x7f
const MAX_SHAPE_NODES = 4096
const SCRATCH_BYTES = 64 * 1024
/** A scratch buffer grown past this by a large value is let go after that value. */
const KEEP_SCRATCH_BYTES = 1024 * 1024

/** One step of the shape tree: the objects whose member names, in order, lead here. */
class ShapeNode {
  readonly next = new Map<string, ShapeNode>()
  /** The MessagePack array of member names, once an object of this shape was written. */
  names: string[] | undefined
  definition: Buffer | undefined
  /** The write that last defined this shape, and the record id it got there. */
  stamp = 0
  id = 0
}

let root = new ShapeNode()
let shapeNodes = 1
let scratch: Buffer = Buffer.allocUnsafeSlow(SCRATCH_BYTES)
let view: DataView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength)
let capacity = scratch.byteLength
let pos = 0
let parts = 0
let stamp = 0
let nextId = 0x40
/** A getter that writes to a cache while its object is being written must not share this state. */
let busy = false

/**
 * Writes `value` after `reserve` free bytes (the caller's header) into a new Buffer, or gives
 * `undefined` when the value is not plain data as described above (nothing is written then).
 */
export function packPlain(value: unknown, reserve: number): Buffer | undefined {
  if (busy) return undefined
  busy = true
  try {
    if (shapeNodes > MAX_SHAPE_NODES) {
      root = new ShapeNode()
      shapeNodes = 1
    }
    pos = reserve
    parts = 0
    stamp++
    nextId = 0x40
    ensure(0)
    if (!write(value, 0)) return undefined
    const out = Buffer.allocUnsafe(pos)
    copyBytes(scratch, reserve, pos, out, reserve)
    return out
  } finally {
    busy = false
    if (scratch.byteLength > KEEP_SCRATCH_BYTES) setScratch(Buffer.allocUnsafeSlow(SCRATCH_BYTES))
  }
}

function setScratch(buffer: Buffer): void {
  scratch = buffer
  view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  capacity = buffer.byteLength
}

/** Makes room for `bytes` more bytes at `pos`. */
function ensure(bytes: number): void {
  if (pos + bytes > capacity) grow(pos + bytes)
}

function grow(need: number): void {
  const grown = Buffer.allocUnsafeSlow(Math.max(need, capacity * 2))
  copyBytes(scratch, 0, pos, grown, 0)
  setScratch(grown)
}

/** Buffer's own copy validates its arguments at a cost that dwarfs the few bytes of an entry. */
function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  if (end - start > 64) to.set(from.subarray(start, end), at)
  else for (let i = start; i < end; i++) to[at++] = from[i] as number
}

function write(value: unknown, depth: number): boolean {
  if (++parts > MAX_PARTS) return false
  switch (typeof value) {
    case 'string':
      writeString(value)
      return true
    case 'number':
      writeNumber(value)
      return true
    case 'boolean':
      ensure(1)
      scratch[pos++] = value ? 0xc3 : 0xc2
      return true
    case 'undefined':
      ensure(3)
      scratch[pos++] = 0xd4
      scratch[pos++] = 0
      scratch[pos++] = 0
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) {
    ensure(1)
    scratch[pos++] = 0xc0
    return true
  }
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) return value.constructor === Array && writeArray(value, depth)
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype) {
    return (value as { constructor: unknown }).constructor === Object && writeRecord(value, depth)
  }
  if (proto === Date.prototype) {
    writeDate(value as Date)
    return true
  }
  return false
}

function writeArray(array: readonly unknown[], depth: number): boolean {
  const length = array.length
  ensure(5)
  if (length < 0x10) scratch[pos++] = 0x90 | length
  else if (length < 0x10000) {
    scratch[pos++] = 0xdc
    scratch[pos++] = length >> 8
    scratch[pos++] = length & 0xff
  } else {
    scratch[pos++] = 0xdd
    view.setUint32(pos, length)
    pos += 4
  }
  for (let i = 0; i < length; i++) if (!write(array[i], depth + 1)) return false
  return true
}

function writeRecord(object: object, depth: number): boolean {
  let node = root
  const keys = Object.keys(object)
  for (let i = 0; i < keys.length; i++) {
    const name = keys[i] as string
    let next = node.next.get(name)
    if (next === undefined) {
      next = new ShapeNode()
      node.next.set(name, next)
      shapeNodes++
    }
    node = next
  }
  if (node.stamp === stamp) {
    ensure(1)
    scratch[pos++] = node.id
  } else {
    if (nextId > LAST_RECORD_ID) return false
    node.stamp = stamp
    node.id = nextId++
    ensure(3)
    scratch[pos++] = 0xd4
    scratch[pos++] = 0x72
    scratch[pos++] = node.id
    const definition = node.definition
    if (definition === undefined) {
      const names = Object.keys(object)
      const start = pos
      writeArray(names, 0)
      node.names = names
      node.definition = Buffer.from(scratch.subarray(start, pos))
    } else {
      ensure(definition.byteLength)
      copyBytes(definition, 0, definition.byteLength, scratch, pos)
      pos += definition.byteLength
    }
  }
  const names = node.names as string[]
  const record = object as Record<string, unknown>
  for (let i = 0; i < names.length; i++) if (!write(record[names[i] as string], depth + 1)) return false
  return true
}

function writeNumber(value: number): void {
  ensure(9)
  if (value >>> 0 === value) {
    if (value < 0x40) scratch[pos++] = value
    else if (value < 0x100) {
      scratch[pos++] = 0xcc
      scratch[pos++] = value
    } else if (value < 0x10000) {
      scratch[pos++] = 0xcd
      scratch[pos++] = value >> 8
      scratch[pos++] = value & 0xff
    } else {
      scratch[pos++] = 0xce
      view.setUint32(pos, value)
      pos += 4
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) scratch[pos++] = 0x100 + value
    else if (value >= -0x80) {
      scratch[pos++] = 0xd0
      scratch[pos++] = value + 0x100
    } else if (value >= -0x8000) {
      scratch[pos++] = 0xd1
      view.setInt16(pos, value)
      pos += 2
    } else {
      scratch[pos++] = 0xd2
      view.setInt32(pos, value)
      pos += 4
    }
  } else {
    scratch[pos++] = 0xcb
    view.setFloat64(pos, value)
    pos += 8
  }
}

function writeString(value: string): void {
  const chars = value.length
  // The header is sized by characters first and moved if the UTF-8 bytes need a longer one.
  const header = chars < 0x20 ? 1 : chars < 0x100 ? 2 : chars < 0x10000 ? 3 : 5
  ensure(header + chars * 3)
  let length: number
  if (chars < 0x40) {
    let at = pos + header
    for (let i = 0; i < chars; i++) {
      let c = value.charCodeAt(i)
      if (c < 0x80) scratch[at++] = c
      else if (c < 0x800) {
        scratch[at++] = (c >> 6) | 0xc0
        scratch[at++] = (c & 0x3f) | 0x80
      } else if ((c & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff)
        scratch[at++] = (c >> 18) | 0xf0
        scratch[at++] = ((c >> 12) & 0x3f) | 0x80
        scratch[at++] = ((c >> 6) & 0x3f) | 0x80
        scratch[at++] = (c & 0x3f) | 0x80
      } else {
        scratch[at++] = (c >> 12) | 0xe0
        scratch[at++] = ((c >> 6) & 0x3f) | 0x80
        scratch[at++] = (c & 0x3f) | 0x80
      }
    }
    length = at - pos - header
  } else length = scratch.write(value, pos + header, 'utf8')
  const start = pos + header
  if (length < 0x20) scratch[pos++] = 0xa0 | length
  else if (length < 0x100) {
    if (header < 2) scratch.copyWithin(pos + 2, start, start + length)
    scratch[pos++] = 0xd9
    scratch[pos++] = length
  } else if (length < 0x10000) {
    if (header < 3) scratch.copyWithin(pos + 3, start, start + length)
    scratch[pos++] = 0xda
    scratch[pos++] = length >> 8
    scratch[pos++] = length & 0xff
  } else {
    if (header < 5) scratch.copyWithin(pos + 5, start, start + length)
    scratch[pos++] = 0xdb
    view.setUint32(pos, length)
    pos += 4
  }
  pos += length
}

/** msgpackr's timestamp extension: 32 bits for whole seconds, 64 with milliseconds, else 96. */
function writeDate(date: Date): void {
  ensure(15)
  const time = date.getTime()
  const seconds = time / 1000
  if (seconds >= 0 && seconds < 0x100000000 && date.getMilliseconds() === 0) {
    scratch[pos++] = 0xd6
    scratch[pos++] = 0xff
    view.setUint32(pos, seconds)
    pos += 4
  } else if (seconds > 0 && seconds < 0x100000000) {
    scratch[pos++] = 0xd7
    scratch[pos++] = 0xff
    view.setUint32(pos, date.getMilliseconds() * 4000000 + ((seconds / 1000 / 0x100000000) >> 0))
    view.setUint32(pos + 4, seconds)
    pos += 8
  } else if (Number.isNaN(seconds)) {
    scratch[pos++] = 0xd4
    scratch[pos++] = 0xff
    scratch[pos++] = 0xff
  } else {
    scratch[pos++] = 0xc7
    scratch[pos++] = 12
    scratch[pos++] = 0xff
    view.setUint32(pos, date.getMilliseconds() * 1000000)
    view.setBigInt64(pos + 4, BigInt(Math.floor(seconds)))
    pos += 12
  }
}
