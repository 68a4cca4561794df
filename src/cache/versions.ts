import { CacheError, InvalidOptionError } from '../errors.js'
import { CacheContext } from './context.js'
import { envelopeOf } from './graced.js'

export function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new InvalidOptionError(`version must be a whole number >= 0, got ${String(version)}`)
  }
  return version
}

/**
 * Copies a key's fresh value from the context's version to the version `delta` away, with the time
 * it has left, and resolves to that version; the caller removes the old copy. Needs a versioned cache.
 */
export async function copyToVersion(ctx: CacheContext, key: string, delta: number): Promise<number> {
  const from = ctx.scope.version
  if (from === undefined) {
    throw new InvalidOptionError('incrVersion needs a versioned cache: createCache({ version: 1 })', {
      key,
    })
  }
  const to = checkVersion(from + delta)
  const full = ctx.full(key)
  const entry = await ctx.call('incrVersion', key, () => ctx.shared.store.getEntry(full))
  const read = entry === undefined ? undefined : ctx.interpret(key, entry.value)
  if (entry === undefined || read?.state !== 'fresh') {
    throw new CacheError(`Cannot move "${key}" to version ${to}: it is not in the cache`, { key })
  }
  const left = entry.expiresAt === null ? null : Math.max(1, entry.expiresAt - ctx.shared.clock.now())
  // An entry with a grace period moves with it: its stale time stays, so the grace never
  // becomes fresh time; its tags (carried inside it) stay too.
  const graced = envelopeOf(ctx, key, entry.value)
  const target = new CacheContext(ctx.shared, { ...ctx.scope, version: to }, ctx)
  await target.write(key, target.full(key), graced ?? read.value, left, graced?.tags)
  return to
}
