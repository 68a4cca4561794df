import { createHash } from 'node:crypto'
import { stablePart } from '../../codec/codec.js'
import { InvalidKeyError } from '../../errors.js'

/**
 * Naming rule for the store's own keys. Every key the store writes for itself starts with
 * `__cachekit:`; a tag's set of keys is `__cachekit:tag:<tag>` (the tag as the cache passes it,
 * already under the cache's prefix). Data keys may not start with `__cachekit:` (the store refuses
 * them with `E_INVALID_KEY`), so the two never collide, and `keys()`, `deletePattern()` and
 * `clear()` skip reserved keys even when a pattern (such as `*` in a cache without prefix) matches
 * them. A cache with a prefix never reaches them: its keys and patterns start with the prefix.
 *
 * A tag set is a hash: one field per tagged key, whose value is a fingerprint of the value written
 * with the tag (the first 16 hex digits of the SHA-1 of its stable part), or `int` for a bare
 * integer. Rewriting a key with the tag overwrites its field, so a set holds at most one field per
 * key: it stays proportional to the distinct keys tagged while it lives, and lives as long as its
 * longest-lived member (see TAG in scripts.ts). `deleteByTag` deletes a key only while its value
 * still has that fingerprint, so an entry rewritten without the tag no longer answers to it, with
 * no extra work on untagged writes. A counter (`int`) answers while it is still an integer, so
 * `incr` keeps a tagged counter findable. (A rewrite without the tag but with byte-identical
 * content, or with another integer for a counter, still answers.) A key deleted by `delete` keeps
 * its field until the set expires or the tag is deleted. Sets written by older versions (Redis
 * sets of `<fingerprint><key>`) are converted on the next tagged write and read as they are.
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

/** What a tag set records for a value: its fingerprint, or `int` for a bare integer. */
export function tagMark(value: Buffer): string {
  return INTEGER.test(value.toString('latin1')) ? INT_MARK : fingerprint(value)
}

export const INT_MARK = 'int'
const INTEGER = /^-?\d+$/

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
