/**
 * The object shapes ("records") MessagePack entries declare, remembered across entries by their
 * bytes. An entry defines each shape it uses (a list of member names) before its first object of
 * that shape; entries of the same kind repeat the same definitions byte for byte. So a definition
 * whose bytes were seen before is not decoded again (the names come from the table), and once a
 * shape is common its objects are built by a compiled object literal instead of member by member:
 * `out[name] = value` with a name known only at run time walks the engine through one
 * hidden-class transition per member on a megamorphic store; a literal with the members spelled
 * out is created in one step, about five times faster.
 *
 * The generated source holds nothing but member names, each written by `JSON.stringify` (a
 * string literal, whatever the bytes held) and a call back into the reader for its value. Shapes
 * naming `__proto__` are never compiled (in a literal it would set the prototype), nor wide ones.
 * The table holds at most {@link MAX_SHAPES} shapes and starts over when full, so entries planted
 * with ever new shapes cost bounded memory and a bounded amount of compiling. Where code
 * generation is disabled (`--disallow-code-generation-from-strings`), objects are built member by
 * member.
 */

/** Reads the next value of a record at `depth`: the reader's own `read`. */
export interface ValueSource {
  read(depth: number): unknown
}

export type RecordBuilder = (source: ValueSource, depth: number) => Record<string, unknown>

/** One remembered shape. */
export interface KnownShape {
  readonly names: readonly string[]
  /** The definition's bytes (a MessagePack array of strings), to tell apart shapes of one hash. */
  readonly bytes: Uint8Array
  build: RecordBuilder | undefined
  seen: number
}

/** A shape is compiled once entries have defined it this many times. */
const COMPILE_AFTER = 8
/** Shapes remembered; the table starts over when it is full. */
const MAX_SHAPES = 1024
/** Wider shapes are built member by member. */
const MAX_MEMBERS = 64

const table = new Map<number, KnownShape | KnownShape[]>()
let size = 0
let codegen = true

/**
 * Where the definition starting at `start` ends, when it is a plain array of short strings (what
 * cachekit's writer produces); -1 for anything else, which is then read the general way.
 */
export function definitionEnd(src: Uint8Array, start: number, end: number): number {
  let pos = start
  const token = src[pos++] as number
  if (token < 0x90 || token > 0x9f) return -1
  const count = token - 0x90
  if (count === 0 || count > MAX_MEMBERS) return -1
  for (let i = 0; i < count; i++) {
    if (pos >= end) return -1
    const head = src[pos++] as number
    let length: number
    if (head >= 0xa0 && head <= 0xbf) length = head - 0xa0
    else if (head === 0xd9 && pos < end) length = src[pos++] as number
    else return -1
    pos += length
  }
  return pos <= end ? pos : -1
}

/** FNV-1a over `src[start, end)`. */
export function hashBytes(src: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (src[i] as number), 0x01000193)
  return hash
}

/** The remembered shape whose definition is `src[start, end)`, counted as seen once more. */
export function knownShape(
  src: Uint8Array,
  start: number,
  end: number,
  hash: number,
): KnownShape | undefined {
  const slot = table.get(hash)
  if (slot === undefined) return undefined
  const shape = Array.isArray(slot)
    ? slot.find((s) => sameBytes(s.bytes, src, start, end))
    : sameBytes(slot.bytes, src, start, end)
      ? slot
      : undefined
  if (shape === undefined) return undefined
  if (shape.build === undefined && codegen && ++shape.seen === COMPILE_AFTER)
    shape.build = compile(shape.names)
  return shape
}

/** Remembers the shape `names`, defined by `src[start, end)`. */
export function rememberShape(
  src: Uint8Array,
  start: number,
  end: number,
  hash: number,
  names: readonly string[],
): void {
  if (size >= MAX_SHAPES) {
    table.clear()
    size = 0
  }
  const shape: KnownShape = {
    names,
    bytes: new Uint8Array(src.subarray(start, end)),
    build: undefined,
    seen: 1,
  }
  const slot = table.get(hash)
  if (slot === undefined) table.set(hash, shape)
  else if (Array.isArray(slot)) slot.push(shape)
  else table.set(hash, [slot, shape])
  size++
}

function sameBytes(known: Uint8Array, src: Uint8Array, start: number, end: number): boolean {
  // `length` read once: a typed array's length getter in the loop condition costs ~8x the compare.
  const length = known.length
  if (length !== end - start) return false
  for (let i = 0; i < length; i++) if (known[i] !== src[start + i]) return false
  return true
}

function compile(names: readonly string[]): RecordBuilder | undefined {
  if (names.includes('__proto__')) return undefined
  const members = names.map((name) => `${JSON.stringify(name)}:s.read(d)`).join(',')
  try {
    return new Function('s', 'd', `return {${members}}`) as RecordBuilder
  } catch {
    // Code generation from strings is disabled in this process: build member by member.
    codegen = false
    return undefined
  }
}
