import { escapeGlob } from '../internal/index.js'
import type { SetOptions } from './cache.js'
import type { CacheContext } from './context.js'
import { SEPARATOR } from './keys.js'
import { noteChange } from './shared.js'

export { expire } from './expire.js'
export { routed, type TierSetOptions, tierSet } from './tier-write.js'

/** Batch and pattern operations of a cache: one store call each where the store batches. */

export async function getMany<T>(ctx: CacheContext, keys: Iterable<string>): Promise<Map<string, T>> {
  const list = [...keys]
  const fulls = list.map((key) => ctx.full(key))
  const raws = await ctx.call('getMany', undefined, () => ctx.shared.store.getMany(fulls))
  const found = new Map<string, T>()
  const inProcess = !ctx.shared.store.capabilities.shared
  list.forEach((key, i) => {
    const read = ctx.count(key, raws[i], inProcess)
    if (read.state === 'fresh') found.set(key, read.value as T)
  })
  return found
}

export async function setMany(
  ctx: CacheContext,
  entries: Readonly<Record<string, unknown>> | Iterable<readonly [string, unknown]>,
  options: SetOptions | undefined,
): Promise<void> {
  const list =
    Symbol.iterator in entries
      ? [...(entries as Iterable<readonly [string, unknown]>)]
      : Object.entries(entries)
  const ttl = ctx.ttl(options?.ttl, undefined)
  const tags = ctx.tags(options?.tags, undefined)
  // Encode everything first: one value that cannot be stored aborts the batch before any write.
  const writes = list.map(([key, value]) => ({
    key: ctx.full(key),
    value: ctx.encode(value, key),
    ttl,
    tags,
  }))
  if (ttl === 0) {
    await deleteMany(
      ctx,
      list.map(([key]) => key),
    )
    return
  }
  noteChange(
    ctx.shared,
    writes.map((write) => write.key),
  )
  await ctx.call('setMany', undefined, () => ctx.shared.store.setMany(writes))
  ctx.counters.sets += writes.length
}

export async function deleteMany(ctx: CacheContext, keys: Iterable<string>): Promise<number> {
  const fulls = [...keys].map((key) => ctx.full(key))
  noteChange(ctx.shared, fulls)
  const deleted = await ctx.call('deleteMany', undefined, () => ctx.shared.store.deleteMany(fulls))
  ctx.deleted(undefined, deleted)
  return deleted
}

export async function deleteByTag(ctx: CacheContext, tag: string): Promise<number> {
  const scoped = changeTag(ctx, tag)
  const deleted = await ctx.call('deleteByTag', undefined, () => ctx.shared.store.deleteByTag(scoped))
  ctx.deleted(undefined, deleted)
  return deleted
}

export async function expireByTag(ctx: CacheContext, tag: string): Promise<number> {
  const scoped = changeTag(ctx, tag)
  const now = ctx.shared.clock.now()
  return ctx.call('expireByTag', undefined, () => ctx.shared.store.expireByTag(scoped, now))
}

export async function deletePattern(ctx: CacheContext, pattern: string): Promise<number> {
  const full = ctx.pattern(pattern)
  noteChange(ctx.shared, undefined)
  const deleted = await ctx.call('deletePattern', undefined, () => ctx.shared.store.deletePattern(full))
  ctx.deleted(undefined, deleted)
  return deleted
}

export async function* keys(ctx: CacheContext, pattern: string): AsyncGenerator<string> {
  const full = ctx.pattern(pattern)
  const skip = ctx.base.length
  for await (const key of ctx.shared.store.keys(full)) yield key.slice(skip)
}

/** Everything under the prefix and namespace, of every version; nothing else. */
export async function clear(ctx: CacheContext): Promise<void> {
  ctx.open()
  const base = [ctx.shared.prefix, ctx.scope.namespace].filter(Boolean).join(SEPARATOR)
  const pattern = base ? `${escapeGlob(base)}${SEPARATOR}*` : '*'
  noteChange(ctx.shared, undefined)
  const deleted = await ctx.call('clear', undefined, () => ctx.shared.store.deletePattern(pattern))
  ctx.deleted(undefined, deleted)
}

/** The tag as the store knows it (scoped to the cache), noted as about to change (tiers, L1). */
function changeTag(ctx: CacheContext, tag: string): string {
  ctx.open()
  const [scoped] = ctx.tags([tag], undefined) as [string]
  noteChange(ctx.shared, undefined, [scoped])
  return scoped
}
