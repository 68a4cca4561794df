import type { Cache } from '../cache/index.js'
import { type Codec, createCodec, Envelope, UNDEFINED } from '../codec/index.js'
import type { CompleteStore, Store } from '../stores/index.js'
import { completeStore } from '../stores/index.js'
import { keyFacts, redisOf } from './redis-info.js'

/** Replaces a value before it is shown: return what may be displayed. */
export type Redactor = (key: string, value: unknown) => unknown

/** What the key page shows about one key. */
export interface KeyDetail {
  readonly key: string
  readonly fullKey: string
  readonly exists: boolean
  /** ms left; `null` never expires; `undefined` missing. */
  readonly ttl: number | null | undefined
  /** Redis's type (`string`, `hash`...), or the JavaScript kind of a value held in memory. */
  readonly type: string
  /** Bytes: Redis MEMORY USAGE, else the encoded entry, else an estimate from encoding it. */
  readonly size: number | undefined
  readonly sizeNote: string
  readonly tags: readonly string[] | undefined
  /** Inside its grace period: served by getOrSet while it refreshes, a miss for `get`. */
  readonly stale: boolean
  readonly preview: string
  /** Why the value could not be shown (a corrupt entry, a failed call). */
  readonly problem: string | undefined
}

const completed = new WeakMap<Store, CompleteStore>()
const estimator = createCodec()

function storeOf(cache: Cache): CompleteStore {
  let store = completed.get(cache.store)
  if (store === undefined) {
    store = completeStore(cache.store)
    completed.set(cache.store, store)
  }
  return store
}

/**
 * Reads a key without counting a hit or a miss (straight from the store, decoded with `codec`),
 * so browsing never moves the stats the overview shows.
 */
export async function describeKey(
  cache: Cache,
  key: string,
  codec: Codec,
  redact: Redactor,
  maxChars: number,
): Promise<KeyDetail> {
  const fullKey = cache.makeKey(key)
  const store = storeOf(cache)
  const entry = await store.getEntry(fullKey)
  const base = { key, fullKey, stale: false, tags: undefined, problem: undefined }
  if (entry === undefined) {
    return { ...base, exists: false, ttl: undefined, type: '—', size: undefined, sizeNote: '', preview: '' }
  }
  const ttl = entry.expiresAt === null ? null : Math.max(0, entry.expiresAt - Date.now())
  let size: number | undefined
  let sizeNote = ''
  let decoded: unknown = entry.value
  let problem: string | undefined
  if (store.capabilities.valueKind === 'bytes' && entry.value instanceof Uint8Array) {
    size = entry.value.byteLength
    sizeNote = 'encoded entry'
    try {
      decoded = codec.decode(entry.value)
    } catch (error) {
      problem = `The entry cannot be decoded: ${(error as Error).message}`
      decoded = undefined
    }
  }
  let tags: readonly string[] | undefined
  let stale = false
  if (decoded instanceof Envelope) {
    tags = decoded.tags
    stale = Date.now() >= decoded.staleAt
    decoded = decoded.value
  }
  if (decoded === UNDEFINED) decoded = undefined
  let type = kindOf(decoded)
  const redis = redisOf(cache)
  if (redis !== undefined) {
    try {
      const facts = await keyFacts(redis, fullKey)
      type = `${facts.type} (${type})`
      if (facts.memory !== undefined) {
        size = facts.memory
        sizeNote = 'MEMORY USAGE'
      }
    } catch {
      // TYPE/MEMORY are extras: a refused script leaves the figures cachekit knows itself.
    }
  }
  if (size === undefined && problem === undefined) {
    try {
      size = estimator.encode(decoded).byteLength
      sizeNote = 'estimated (encoded size)'
    } catch {
      sizeNote = ''
    }
  }
  const preview = problem === undefined ? render(redact(key, decoded), maxChars) : ''
  return { ...base, exists: true, ttl, type, size, sizeNote, tags, stale, preview, problem }
}

/** The JavaScript kind of a value, as a reader would name it. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  if (Array.isArray(value)) return 'array'
  const name = (value as object).constructor?.name
  return name && name !== 'Object' ? name : 'object'
}

const SECRET = /pass(word|wd)?|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key/i

/**
 * The default {@link Redactor}: fields whose names look like secrets (`password`, `token`,
 * `apiKey`, `secret`, `authorization`, `cookie`...) are shown as `[redacted]`, at any depth.
 */
export function redactSecretFields(_key: string, value: unknown): unknown {
  return walk(value, 0)
}

function walk(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 32) return value
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1))
  if (value instanceof Map) {
    return new Map(
      [...value].map(([k, v]) => [
        k,
        typeof k === 'string' && SECRET.test(k) ? REDACTED : walk(v, depth + 1),
      ]),
    )
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = SECRET.test(k) ? REDACTED : walk(v, depth + 1)
  return out
}

const REDACTED = '[redacted]'

/**
 * A readable text form of any cache value (Date, BigInt, Map, Set, bytes, undefined included),
 * cut at `maxChars`. Plain text: the page escapes it.
 */
export function render(value: unknown, maxChars: number): string {
  const out: string[] = []
  let length = 0
  let cut = false
  const push = (text: string) => {
    if (cut) return
    if (length + text.length > maxChars) {
      out.push(text.slice(0, Math.max(0, maxChars - length)))
      cut = true
      return
    }
    out.push(text)
    length += text.length
  }
  const seen = new Set<object>()
  const go = (v: unknown, indent: string): void => {
    if (cut) return
    if (v === null || typeof v !== 'object') {
      push(scalar(v))
      return
    }
    if (seen.has(v)) {
      push('[circular]')
      return
    }
    seen.add(v)
    const inner = `${indent}  `
    if (v instanceof Date) push(`Date(${Number.isNaN(v.getTime()) ? 'Invalid' : v.toISOString()})`)
    else if (ArrayBuffer.isView(v)) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      push(
        `${v.constructor.name}(${b.byteLength}) ${b.subarray(0, 64).toString('hex')}${b.byteLength > 64 ? '…' : ''}`,
      )
    } else if (v instanceof Map || v instanceof Set || Array.isArray(v)) {
      const isMap = v instanceof Map
      const items = isMap ? [...v] : [...(v as Iterable<unknown>)]
      push(Array.isArray(v) ? '[' : `${isMap ? 'Map' : 'Set'}(${items.length}) {`)
      items.forEach((item, i) => {
        push(`${i ? ',' : ''}\n${inner}`)
        if (isMap) {
          const [k, val] = item as [unknown, unknown]
          go(k, inner)
          push(' => ')
          go(val, inner)
        } else go(item, inner)
      })
      push(`${items.length ? `\n${indent}` : ''}${Array.isArray(v) ? ']' : '}'}`)
    } else {
      const entries = Object.entries(v)
      push('{')
      entries.forEach(([k, val], i) => {
        push(`${i ? ',' : ''}\n${inner}${JSON.stringify(k)}: `)
        go(val, inner)
      })
      push(`${entries.length ? `\n${indent}` : ''}}`)
    }
    seen.delete(v)
  }
  go(value, '')
  return cut ? `${out.join('')}\n… (cut at ${maxChars} characters)` : out.join('')
}

function scalar(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return JSON.stringify(v)
  return String(v)
}

/** What the key list shows per key. */
export interface KeyFacts {
  readonly ttl: number | null | undefined
  readonly type: string
  readonly size: number | undefined
}

/** The type and size of a key for the key list: Redis's TYPE and MEMORY USAGE, or the live value's kind. */
export async function keySummary(
  cache: Cache,
  key: string,
): Promise<{ readonly type: string; readonly size: number | undefined }> {
  const fullKey = cache.makeKey(key)
  const redis = redisOf(cache)
  if (redis !== undefined) {
    const facts = await keyFacts(redis, fullKey)
    return { type: facts.type, size: facts.memory }
  }
  const store = storeOf(cache)
  const entry = await store.getEntry(fullKey)
  if (entry === undefined) return { type: '—', size: undefined }
  if (entry.value instanceof Uint8Array && store.capabilities.valueKind === 'bytes') {
    return { type: 'bytes', size: entry.value.byteLength }
  }
  let value = entry.value instanceof Envelope ? entry.value.value : entry.value
  if (value === UNDEFINED) value = undefined
  return { type: kindOf(value), size: undefined }
}
