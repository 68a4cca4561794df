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
 * A tag set's members are `<fingerprint><key>`: the first 16 hex digits of the SHA-1 of the value
 * written with the tag, then the key. `deleteByTag` deletes a key only while its value still has
 * that fingerprint, so an entry rewritten without the tag no longer answers to it, with no extra
 * work on untagged writes. (A rewrite with byte-identical content, or an `incr` of a tagged
 * counter, is the exception: identical bytes still answer; an incremented counter no longer does.)
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

export function tagMember(key: string, value: Buffer): string {
  return fingerprint(value) + key
}

/** Splits a tag set member into its key and fingerprint. */
export function parseMember(member: string): { readonly key: string; readonly fingerprint: string } {
  return { key: member.slice(FINGERPRINT), fingerprint: member.slice(0, FINGERPRINT) }
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
