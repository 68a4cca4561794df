import { inspect } from 'node:util'
import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { EXIT, type Outcome, toJsonSafe } from './output.js'

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Date) return 'Date'
  if (value instanceof Map) return 'Map'
  if (value instanceof Set) return 'Set'
  if (value instanceof Uint8Array) return 'bytes'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * `cachekit get <key>`: the value decoded through the cache's codec, so a `Date` shows as a Date.
 * A value cachekit did not write (a raw string set by another client) is shown as text, `raw: true`.
 * Exit 1 when the key is missing.
 */
export async function getCommand(ctx: CommandContext, key: string): Promise<Outcome> {
  return withConnection(ctx, async ({ cache }) => {
    let value: unknown = await cache.get(key)
    let raw = false
    if (value === undefined) {
      // A miss, or bytes the codec cannot read (written by another client): read them raw.
      const bytes = (await cache.store.get(cache.makeKey(key))) as Uint8Array | string | undefined
      if (bytes === undefined || bytes === null) {
        return { code: EXIT.error, json: { key, found: false }, text: [`(missing) ${key}`] }
      }
      value = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')
      raw = true
    }
    const ttlMs = await cache.ttl(key)
    return {
      code: EXIT.ok,
      json: { key, found: true, type: typeOf(value), raw, ttlMs: ttlMs ?? null, value: toJsonSafe(value) },
      text: [inspect(value, { depth: 8, colors: false, maxArrayLength: 200, breakLength: 100 })],
    }
  })
}

/** `cachekit ttl <key>`: ms left, `null` for never; exit 1 when the key is missing. */
export async function ttlCommand(ctx: CommandContext, key: string): Promise<Outcome> {
  return withConnection(ctx, async ({ cache }) => {
    const ttlMs = await cache.ttl(key)
    if (ttlMs === undefined) {
      return { code: EXIT.error, json: { key, found: false }, text: [`(missing) ${key}`] }
    }
    return {
      code: EXIT.ok,
      json: { key, found: true, ttlMs },
      text: [ttlMs === null ? 'never expires' : `${ttlMs} ms`],
    }
  })
}

/** `cachekit del <key...>`: how many were deleted (exit 0 even when none was there). */
export async function delCommand(ctx: CommandContext, keys: readonly string[]): Promise<Outcome> {
  return withConnection(ctx, async ({ cache }) => {
    const deleted = await cache.deleteMany(keys)
    return { code: EXIT.ok, json: { keys, deleted }, text: [`deleted ${deleted} of ${keys.length}`] }
  })
}
