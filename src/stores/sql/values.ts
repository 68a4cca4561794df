import { randomBytes } from 'node:crypto'
import { UnencodableValueError } from '../../errors.js'

/**
 * Conversions between what the engine writes and what each client library reads back: `bytea`,
 * `BLOB` and `LONGBLOB` come back as Buffers, but a row written by hand may hold text or a number,
 * MySQL's binary keys come back as Buffers, and `pg` returns `bigint` columns as strings.
 */

/** The value to write, as a Buffer (no copy). */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new UnencodableValueError(
    'SQL stores keep bytes: pass a Uint8Array (a cache built with createCache encodes values for you)',
  )
}

/** A value column as bytes, whatever type the row holds. */
export function fromColumn(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (typeof value === 'number' || typeof value === 'bigint') return Buffer.from(String(value), 'latin1')
  return Buffer.alloc(0)
}

/** A key column as text. */
export function keyOf(value: unknown): string {
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value)
}

/** An `expires_at` or count column as a number; `null` stays `null`. */
export function numberOf(value: unknown): number | null {
  if (value === null || value === undefined) return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

const INTEGER = /^-?(?:0|[1-9]\d{0,15})$/

/** The safe integer a value column holds as ASCII digits, or undefined. */
export function integerOf(value: unknown): number | undefined {
  const bytes = fromColumn(value)
  if (bytes.byteLength > 17) return undefined
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  if (!INTEGER.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

/** True when the string takes at most `limit` bytes in UTF-8 (no count when it is short enough). */
export function fitsUtf8(text: string, limit: number): boolean {
  return text.length * 3 <= limit || Buffer.byteLength(text, 'utf8') <= limit
}

/** The expiry (epoch ms, `null` = never) of a write with `ttl` ms made at `now`. */
export function expiry(ttl: number | null, now: number): number | null {
  return ttl === null ? null : now + Math.max(1, Math.ceil(ttl))
}

/** A random tag version (48 bits): tag links written with another version no longer count. */
export function newVersion(): number {
  return randomBytes(6).readUIntBE(0, 6) + 1
}
