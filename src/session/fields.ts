import * as crypto from 'node:crypto'
import { createHash } from 'node:crypto'
import type { SessionData } from './sessions.js'

// A session's fields as the session core compares them: JSON text, and what a snapshot keeps of it.

/** Field → JSON; fields whose value JSON cannot hold (`undefined`, functions) are absent, as in JSON. */
export function serialize(data: SessionData): Map<string, string> {
  const out = new Map<string, string>()
  for (const field of Object.keys(data)) {
    const json = JSON.stringify(data[field])
    if (json !== undefined) out.set(field, json)
  }
  return out
}

/** Node ≥ 20.12 hashes in one call, without a Hash object per digest. */
const hashOnce = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string })
  .hash

/**
 * What a snapshot keeps of a field's JSON: short JSON itself behind `=` (not a base64url
 * character, so it never equals a hash), longer JSON as 22 characters of its SHA-256.
 */
export function digest(json: string): string {
  if (json.length <= INLINE_JSON) return `=${json}`
  const hash =
    hashOnce === undefined
      ? createHash('sha256').update(json).digest('base64url')
      : hashOnce('sha256', json, 'base64url')
  return hash.slice(0, 22)
}

/** The longest JSON a snapshot keeps as it is rather than hashing it. */
const INLINE_JSON = 64
