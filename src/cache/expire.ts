import { Envelope, staleEntry } from '../codec/index.js'
import type { CacheContext } from './context.js'
import { envelopeOf } from './graced.js'
import { noteChange } from './shared.js'

/** A bare safe integer (a counter): it has no room to say it is stale. */
function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

/**
 * Makes one entry stale now, keeping its value and its hard expiry: `get` misses it, `getOrSet`
 * serves it as grace while one refresh runs. Resolves to false when the key is missing. A bare
 * integer (a counter) cannot be marked stale and is removed, as `expireByTag` does. The entry is
 * read then rewritten (as `touch` rewrites a graced entry), so on a tiered store the write goes
 * out on the bus and every other instance drops its L1 copy. Tags: a byte entry is marked in
 * place and keeps its Redis tag fingerprint; a tiered entry keeps its tags (they travel in L2);
 * on a memory store, an entry written by `set` with tags stops answering to them.
 */
export async function expire(ctx: CacheContext, key: string): Promise<boolean> {
  const full = ctx.full(key)
  const { store, codec, clock } = ctx.shared
  // A getOrSet under way read the value before it went stale: its result must not land after this.
  noteChange(ctx.shared, [full])
  const entry = await ctx.call('expire', key, () => store.getEntry(full))
  if (entry === undefined) return false
  const now = clock.now()
  const left = entry.expiresAt === null ? null : entry.expiresAt - now
  if (left !== null && left <= 0) return false
  const ttl = left === null ? null : Math.max(1, left)
  if (codec !== undefined) {
    // Bytes: mark the header in place, so the value's stable part (what a Redis tag fingerprints)
    // does not change and the entry keeps answering to its tags.
    const stale = staleEntry(entry.value as Uint8Array, now)
    if (stale === undefined) return remove(ctx, key, full)
    if (stale !== entry.value) await rewrite(ctx, key, full, stale, ttl)
    return true
  }
  if (isCounter(entry.value)) return remove(ctx, key, full)
  const graced = envelopeOf(ctx, key, entry.value)
  if (graced !== undefined && graced.staleAt <= now) return true
  const value = graced === undefined ? entry.value : graced.value
  // A tiered store's entry says its tags (see TieredEntry); a graced one carries them inside.
  const tags = graced?.tags ?? (entry as { readonly tags?: readonly string[] }).tags
  await ctx.write(key, full, new Envelope(value, now, tags), ttl, tags)
  return true
}

/** Writes already-encoded bytes back, as `ctx.write` would after encoding. */
async function rewrite(
  ctx: CacheContext,
  key: string,
  full: string,
  stale: Uint8Array,
  ttl: number | null,
): Promise<void> {
  await ctx.call('expire', key, () => ctx.shared.store.set(full, stale, { ttl }))
}

async function remove(ctx: CacheContext, key: string, full: string): Promise<true> {
  if (await ctx.call('expire', key, () => ctx.shared.store.delete(full))) ctx.deleted(key, 1)
  return true
}
