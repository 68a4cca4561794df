import { CircularValueError, UnencodableValueError, ValueTooLargeError } from '../errors.js'
import { describe } from '../internal/index.js'
import { immutableDate, immutableMap, immutableSet } from './immutable.js'

/**
 * The values cachekit stores losslessly, in every store and codec: primitives (including
 * `undefined`, `bigint`, `NaN`, `±Infinity`), plain objects (with `undefined` members), arrays,
 * `Date`, `Map`, `Set`, `Uint8Array`/`Buffer` and the other typed arrays, nested to any depth up
 * to {@link MAX_DEPTH}. Functions, symbols, class instances and circular references are refused
 * with a typed error before anything is written.
 */
export type CacheValue = unknown

/** Nesting deeper than this is refused rather than risking a stack overflow in a codec. */
export const MAX_DEPTH = 256

/**
 * The most parts (values at every level, a shared part counted once per use) one value may have,
 * on the way in (check, copy, freeze) and on the way out (decode). It bounds the work a value can
 * cause: a graph that shares parts can stand for far more nodes than it holds objects.
 */
export const MAX_NODES = 10_000_000

/** How much one decode or one walk may build: values in all, and containers nested. */
export interface DecodeLimits {
  readonly maxNodes: number
  readonly maxDepth: number
}

/** The budgets every store and codec applies unless configured otherwise. */
export const DEFAULT_LIMITS: DecodeLimits = { maxNodes: MAX_NODES, maxDepth: MAX_DEPTH }

/**
 * Stands for a top-level `undefined` in stores that keep live values, where `undefined` already
 * means "miss". Codecs encode `undefined` itself and never see this.
 */
/**
 * The typed arrays a value may hold, in the order msgpackr's writer numbers them (the index is its
 * typed array code); the JSON codec names them by constructor name.
 */
export const TYPED_ARRAYS: readonly (new (buffer: ArrayBuffer) => ArrayBufferView)[] = [
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
]

export const UNDEFINED: unique symbol = Symbol.for('cachekit.undefined')

/**
 * Wraps a value with what the cache must know about it beyond the value itself: `staleAt`, when a
 * value written with a grace period stops being fresh (the store keeps it until `staleAt + grace`;
 * `Infinity` when there is no grace), and `tags`, carried inside the entry by tiered caches so an
 * L1 filled from L2 still knows them. Only the cache creates these; codecs and the memory store
 * carry them through.
 */
export class Envelope {
  constructor(
    readonly value: unknown,
    readonly staleAt: number,
    readonly tags?: readonly string[] | undefined,
  ) {}
}

/** How {@link snapshot} treats the parts of a value. */
export type SnapshotMode = 'freeze' | 'clone' | 'check'

export interface Snapshot {
  /** The value to keep: a deep copy (`freeze`, `clone`) or the caller's own value (`check`). */
  readonly value: unknown
  /**
   * True when the value holds a part a reader could change in the kept copy: a typed array (in
   * `freeze` mode, whose Dates, Maps and Sets are read-only), or a Date, Map, Set or typed array
   * (in the other modes).
   */
  readonly unfreezable: boolean
  /** A rough size in bytes, for `maxBytes` accounting. */
  readonly bytes: number
}

/**
 * Walks a value once: refuses what cannot be stored (naming the path), measures it, and in `freeze`
 * mode returns a deep copy whose objects and arrays are frozen and whose Dates, Maps and Sets are
 * read-only instances (immutable.ts); in `clone` mode a plain deep copy.
 */
export function snapshot(
  value: unknown,
  mode: SnapshotMode,
  limits: DecodeLimits = DEFAULT_LIMITS,
): Snapshot {
  const walker = new Walker(mode, limits)
  const copy = walker.visit(value, 0)
  return { value: copy, unfreezable: walker.unfreezable, bytes: walker.bytes }
}

/**
 * Frozen copies (from `freeze` snapshots) that hold a typed array somewhere inside:
 * {@link copyMutableParts} copies these and shares every other frozen node.
 */
const holdsMutable = new WeakSet<object>()

/**
 * What a read of a frozen snapshot returns. A `freeze` snapshot keeps `Date`, `Map` and `Set` as
 * read-only instances (see immutable.ts), so a value without typed arrays is returned as it is:
 * zero copy. Typed arrays cannot be made read-only: a read gets fresh copies of those and of the
 * frozen objects on the way to them, every other part shared.
 */
export function copyMutableParts(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (ArrayBuffer.isView(value)) return copyTypedArray(value)
  if (!holdsMutable.has(value)) return value
  let out: object
  if (Array.isArray(value)) out = Object.freeze(value.map(copyMutableParts))
  else if (value instanceof Map) {
    out = immutableMap(Array.from(value, ([k, v]) => [copyMutableParts(k), copyMutableParts(v)] as const))
  } else if (value instanceof Set) out = immutableSet(Array.from(value, copyMutableParts))
  else {
    const copy: Record<string, unknown> = {}
    for (const name of Object.keys(value))
      setOwn(copy, name, copyMutableParts((value as Record<string, unknown>)[name]))
    out = Object.freeze(copy)
  }
  holdsMutable.add(out)
  return out
}

/** One step of the path to a value's part, formatted only when an error needs it. */
type Step = string | number | { readonly label: string }

class Walker {
  unfreezable = false
  bytes = 0
  /** The objects being visited, outermost first: meeting one again means a cycle. */
  private readonly ancestors: object[] = []
  /** The path to the current part, as steps: building `$.a.b` strings for every part is costly. */
  private readonly steps: Step[] = []
  private nodes = 0

  constructor(
    private readonly mode: SnapshotMode,
    private readonly limits: DecodeLimits,
  ) {}

  visit(value: unknown, depth: number): unknown {
    if (++this.nodes > this.limits.maxNodes) {
      throw new ValueTooLargeError(
        `Value has more than ${this.limits.maxNodes} parts (a part shared by several parents counts once per parent): store less, or store ids in place of repeated parts`,
      )
    }
    switch (typeof value) {
      case 'string':
        this.bytes += 16 + value.length * 2
        return value
      case 'number':
      case 'boolean':
      case 'undefined':
        this.bytes += 8
        return value
      case 'bigint':
        this.bytes += 16
        return value
      case 'symbol':
        if (value === UNDEFINED) return value
        break
      case 'object':
        if (value === null) {
          this.bytes += 8
          return value
        }
        return this.visitObject(value, depth)
    }
    throw new UnencodableValueError(
      `Cannot store ${describe(value)} at ${this.path()}: cache values are data (primitives, plain objects, arrays, Date, Map, Set, typed arrays); store the data the ${typeof value} is built from instead`,
    )
  }

  private visitAt(step: Step, value: unknown, depth: number): unknown {
    this.steps.push(step)
    const copy = this.visit(value, depth)
    this.steps.pop()
    return copy
  }

  private path(): string {
    let out = '$'
    for (const step of this.steps) {
      out += typeof step === 'string' ? `.${step}` : typeof step === 'number' ? `[${step}]` : step.label
    }
    return out
  }

  private visitObject(value: object, depth: number): unknown {
    if (depth >= this.limits.maxDepth) {
      throw new UnencodableValueError(
        `Value at ${this.path()} is nested deeper than ${this.limits.maxDepth} levels: flatten it`,
      )
    }
    if (this.ancestors.includes(value)) {
      throw new CircularValueError(
        `Value refers to itself at ${this.path()}: cachekit refuses circular values; store an id in place of the back reference`,
      )
    }
    this.ancestors.push(value)
    const outer = this.unfreezable
    this.unfreezable = false
    const copy = this.copyObject(value, depth + 1)
    if (this.unfreezable && this.mode === 'freeze' && typeof copy === 'object' && copy !== null) {
      holdsMutable.add(copy)
    }
    this.unfreezable ||= outer
    this.ancestors.pop()
    return copy
  }

  private copyObject(value: object, depth: number): unknown {
    const copying = this.mode !== 'check'
    if (Array.isArray(value)) {
      this.bytes += 16 + value.length * 8
      const out: unknown[] = copying ? new Array(value.length) : value
      for (let i = 0; i < value.length; i++) {
        const item = this.visitAt(i, value[i], depth)
        if (copying) out[i] = item
      }
      return this.seal(out)
    }
    const proto = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = copying ? {} : (value as Record<string, unknown>)
      for (const name of Object.keys(value)) {
        this.bytes += 24 + name.length * 2
        const item = this.visitAt(name, (value as Record<string, unknown>)[name], depth)
        if (copying) setOwn(out, name, item)
      }
      return this.seal(out)
    }
    const freezing = this.mode === 'freeze'
    if (value instanceof Date) {
      // A freeze snapshot's Date is read-only: nothing in it for a reader to change.
      if (!freezing) this.unfreezable = true
      this.bytes += 24
      return freezing ? immutableDate(value.getTime()) : copying ? new Date(value.getTime()) : value
    }
    if (value instanceof Map) {
      if (!freezing) this.unfreezable = true
      this.bytes += 32
      const entries: [unknown, unknown][] | undefined = copying ? [] : undefined
      let i = 0
      for (const [k, v] of value) {
        const ck = this.visitAt({ label: `<key ${i}>` }, k, depth)
        const cv = this.visitAt({ label: `<value ${i}>` }, v, depth)
        entries?.push([ck, cv])
        i++
      }
      if (!entries) return value
      return freezing ? immutableMap(entries) : new Map(entries)
    }
    if (value instanceof Set) {
      if (!freezing) this.unfreezable = true
      this.bytes += 32
      const items: unknown[] | undefined = copying ? [] : undefined
      let i = 0
      for (const item of value) {
        const c = this.visitAt({ label: `<item ${i++}>` }, item, depth)
        items?.push(c)
      }
      if (!items) return value
      return freezing ? immutableSet(items) : new Set(items)
    }
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      this.unfreezable = true
      this.bytes += 32 + value.byteLength
      return copying ? copyTypedArray(value) : value
    }
    if (value instanceof Envelope) {
      return new Envelope(this.visit(value.value, depth), value.staleAt, value.tags)
    }
    throw new UnencodableValueError(
      `Cannot store ${describe(value)} at ${this.path()}: only plain objects, arrays, Date, Map, Set and typed arrays are stored losslessly; store a plain-object form of it (for example its toJSON())`,
    )
  }

  private seal<T extends object>(value: T): T {
    return this.mode === 'freeze' ? Object.freeze(value) : value
  }
}

/** Assigns as data even for a key named `__proto__`, which a plain assignment would turn into a prototype change. */
export function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true })
  } else target[name] = value
}

function copyTypedArray(view: ArrayBufferView): ArrayBufferView {
  if (Buffer.isBuffer(view)) return Buffer.from(view)
  const Ctor = view.constructor as new (source: ArrayBufferView) => ArrayBufferView
  return new Ctor(view)
}
