import { Envelope, UNDEFINED } from '../codec/index.js'
import type { CacheContext } from './context.js'

/** The entry's grace envelope (value, stale time, tags), if it was written with one; else undefined. */
export function envelopeOf(ctx: CacheContext, key: string, raw: unknown): Envelope | undefined {
  let decoded: unknown
  try {
    decoded = ctx.shared.codec ? ctx.shared.codec.decode(raw as Uint8Array) : raw
  } catch (error) {
    ctx.recordError('decode', key, error)
    return undefined
  }
  if (!(decoded instanceof Envelope) || !Number.isFinite(decoded.staleAt)) return undefined
  return decoded.value === UNDEFINED ? new Envelope(undefined, decoded.staleAt, decoded.tags) : decoded
}

/**
 * Gives an existing entry a new TTL in ms (`null`: never expires), false if missing. An entry
 * written with a grace period keeps it: its fresh time becomes `ms` and its hard expiry `ms` plus
 * the grace, so it is rewritten rather than only re-timed.
 */
export async function retime(
  ctx: CacheContext,
  key: string,
  full: string,
  ms: number | null,
): Promise<boolean> {
  const entry = await ctx.call('touch', key, () => ctx.shared.store.getEntry(full))
  if (entry === undefined) return false
  const graced = envelopeOf(ctx, key, entry.value)
  if (graced === undefined) return ctx.call('touch', key, () => ctx.shared.store.touch(full, ms))
  const grace = entry.expiresAt === null ? null : Math.max(0, entry.expiresAt - graced.staleAt)
  const tags = graced.tags
  if (ms === null) {
    // Never stale again: a plain entry, as getOrSet writes one with no TTL.
    await ctx.write(key, full, graced.value, null, tags)
  } else {
    const stale = new Envelope(graced.value, ctx.shared.clock.now() + ms, tags)
    await ctx.write(key, full, stale, grace === null ? null : ms + grace, tags)
  }
  return true
}
