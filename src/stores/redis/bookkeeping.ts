import { createHash } from 'node:crypto'
import { stablePart } from '../../codec/index.js'
import { InvalidKeyError } from '../../errors.js'
import { keySlot } from './slot.js'

/**
 * Naming rule for the store's own keys. Every key the store writes for itself starts with
 * `__cachekit:`; a tag's set of keys is `__cachekit:tag:<tag>` (the tag as the cache passes it,
 * already under the cache's prefix). Data keys may not start with `__cachekit:` (the store refuses
 * them with `E_INVALID_KEY`), so the two never collide, and `keys()`, `deletePattern()` and
 * `clear()` skip reserved keys even when a pattern (such as `*` in a cache without prefix) matches
 * them. A cache with a prefix never reaches them: its keys and patterns start with the prefix.
 *
 * A tag set is a hash: one field per tagged key, whose value is a fingerprint of the value written
 * with the tag (the first 16 hex digits of the SHA-1 of its stable part). Rewriting a key with the
 * tag overwrites its field, so a set holds at most one field per key: it stays proportional to the
 * distinct keys tagged while it lives, and lives as long as its longest-lived member (see TAG in
 * scripts.ts). `deleteByTag` deletes a key only while its value still has that fingerprint, so an
 * entry rewritten without the tag no longer answers to it, with no extra work on untagged writes.
 * (A rewrite without the tag but with byte-identical content still answers.) A key deleted by
 * `delete` keeps its field until the set expires or the tag is deleted.
 *
 * A tagged counter (a bare integer written with tags) also gets a counter key,
 * `__cachekit:ctr:<key>` in the key's hash slot, holding `<fingerprint>:<value>`; `incr` moves its
 * value along while nothing else rewrote the key, so the counter keeps answering to its tags. It
 * expires with the counter. Sets written by older versions (Redis sets of `<fingerprint><key>`)
 * are converted on the next tagged write and read as they are meanwhile.
 */
export const RESERVED = '__cachekit:'
export const TAG_SET = `${RESERVED}tag:`

export function tagSetKey(tag: string): string {
  return TAG_SET + tag
}

const FINGERPRINT = 16

/**
 * A value's fingerprint, over the part `expireByTag` never changes (see `stablePart`), so a tag
 * still knows an entry after another tag made it stale. The STABLE Lua function computes the same.
 */
export function fingerprint(value: Buffer): string {
  return createHash('sha1').update(stablePart(value)).digest('hex').slice(0, FINGERPRINT)
}

const INTEGER = /^-?\d+$/

/** True for a bare integer entry (a counter), which `incr` may change while it keeps its tags. */
export function isInteger(value: Buffer): boolean {
  return value.byteLength <= 21 && INTEGER.test(value.toString('latin1'))
}

const COUNTER = `${RESERVED}ctr:`

/**
 * The key that follows a tagged counter through `incr` (see INCR), named so it lives in the
 * counter's own hash slot; undefined for the rare key no such name shares a slot with (a `}`
 * without a hash tag), whose counters then stop answering to their tags once incremented.
 */
export function counterKey(key: string): string | undefined {
  const slot = keySlot(key)
  const plain = COUNTER + key
  if (keySlot(plain) === slot) return plain
  const tagged = `${COUNTER}{${key}}`
  return keySlot(tagged) === slot ? tagged : undefined
}

/** What a counter key holds: the tag fingerprint it answers to and the value it had then. */
export function counterMark(value: Buffer): string {
  return `${fingerprint(value)}:${value.toString('latin1')}`
}

export function isReserved(key: string): boolean {
  return key.startsWith(RESERVED)
}

/** Refuses a data key in the reserved namespace. */
export function checkKey(key: string): string {
  if (key.charCodeAt(0) === 95 && key.startsWith(RESERVED)) {
    throw new InvalidKeyError(
      `Keys starting with "${RESERVED}" are reserved for the Redis store's bookkeeping`,
      {
        key,
      },
    )
  }
  return key
}
