import { InvalidTtlError, NotAnIntegerError, UnencodableValueError } from '../../errors.js'
import { checkValueBytes, MAX_TTL_MS } from '../../internal/index.js'
import type { StoreWriteOptions } from '../types.js'
import { counterKey, counterMark, isInteger } from './bookkeeping.js'
import type { RedisArg, RedisDriver } from './driver.js'
import { batchesOf, groupBySlot } from './slot.js'
import { addTags } from './tags.js'

/** Keys per UNLINK/MGET batch in multi-key work. */
export const BATCH = 1000

/** The bytes to store for a value the cache encoded; refuses anything else, and oversize values. */
export function toBytes(maxValueBytes: number, value: unknown, key: string): Buffer {
  let bytes: Buffer
  if (Buffer.isBuffer(value)) bytes = value
  else if (value instanceof Uint8Array) bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  else if (typeof value === 'string') bytes = Buffer.from(value, 'utf8')
  else {
    throw new UnencodableValueError(
      'The Redis store keeps bytes: pass values through a cache (createCache) so they are encoded',
      { key },
    )
  }
  checkValueBytes(bytes.byteLength, maxValueBytes, key)
  return bytes
}

// The store checks TTLs against the core's documented maximum (100 years) itself, because a store
// can be used without a cache: Redis refuses larger PX values with an untyped error, after INCRBY
// has already created the counter without expiry.

/** A TTL as a PX/PEXPIRE argument; refuses one Redis would refuse, before anything is sent. */
export function px(ttl: number, key: string): string {
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_MS) {
    throw new InvalidTtlError(
      `TTL must be a whole number of ms between 1 and ${MAX_TTL_MS} (100 years), got ${String(ttl)}`,
      { key },
    )
  }
  return String(ttl)
}

/** SET with PX, and the entry's tags in the same round trip. */
export function writeEntry(
  d: RedisDriver,
  key: string,
  bytes: Buffer,
  options: StoreWriteOptions,
): Promise<unknown> {
  const args: RedisArg[] =
    options.ttl === null ? ['SET', key, bytes] : ['SET', key, bytes, 'PX', px(options.ttl, key)]
  // Not an async function: an untagged write is the command's own promise, not a second one.
  if (!options.tags || options.tags.length === 0) return d.send(args, key)
  return Promise.all([d.send(args, key), tagEntry(d, key, bytes, options.tags, options.ttl)])
}

/**
 * Records a written entry under its tags; a counter (bare integer) also gets its counter key, so
 * `incr` keeps it answering to them (see bookkeeping.ts).
 */
export async function tagEntry(
  d: RedisDriver,
  key: string,
  bytes: Buffer,
  tags: readonly string[],
  ttl: number | null,
): Promise<void> {
  const counter = isInteger(bytes) ? counterKey(key) : undefined
  if (counter === undefined) {
    await addTags(d, key, bytes, tags, ttl)
    return
  }
  const mark: RedisArg[] = ['SET', counter, counterMark(bytes)]
  if (ttl !== null) mark.push('PX', px(ttl, key))
  await Promise.all([addTags(d, key, bytes, tags, ttl), d.send(mark, counter)])
}

/** A Redis reply as a store value: nil is a miss. */
export function toValue(reply: unknown): unknown {
  return reply === null || reply === undefined ? undefined : reply
}

/** UNLINKs keys in batches (grouped by hash slot in Cluster); resolves to how many existed. */
export async function unlink(d: RedisDriver, keys: readonly string[]): Promise<number> {
  const counts = await Promise.all(
    batchesOf(keys, d.topology === 'cluster', BATCH).map((batch) => {
      const group = batch.map((i) => keys[i] as string)
      return d.send(['UNLINK', ...group], group[0])
    }),
  )
  return counts.reduce((total: number, n) => total + Number(n), 0)
}

/** A failed INCRBY as the typed error the contract promises (not an integer, or out of range). */
export function integerError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : ''
  if (/not an integer|ERANGE|overflow|WRONGTYPE/.test(message)) {
    return new NotAnIntegerError(
      /ERANGE|overflow/.test(message)
        ? 'Cannot increment: the result leaves the safe integer range'
        : 'Cannot increment: the stored value is not an integer; set it to a number first',
      { cause: error },
    )
  }
  return error
}

/** MGET, one per hash slot in Cluster (a multi-key command takes one slot), values in key order. */
export async function mget(d: RedisDriver, keys: readonly string[]): Promise<unknown[]> {
  if (d.topology !== 'cluster') {
    const reply = (await d.send(['MGET', ...keys], keys[0])) as unknown[]
    return reply.map(toValue)
  }
  const out: unknown[] = keys.map(() => undefined)
  await Promise.all(
    [...groupBySlot(keys)].map(async ([, indexes]) => {
      const group = indexes.map((i) => keys[i] as string)
      const reply = (await d.send(['MGET', ...group], group[0])) as unknown[]
      indexes.forEach((index, j) => {
        out[index] = toValue(reply[j])
      })
    }),
  )
  return out
}
