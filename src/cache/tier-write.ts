import { InvalidOptionError } from '../errors.js'
import { TieredStore } from '../tiers/index.js'
import type { SetOptions } from './cache.js'
import type { CacheContext } from './context.js'
import { noteChange } from './shared.js'

/**
 * Options of `cache.set` on a tiered cache (`createCache({ tiers })`): where this one write goes,
 * as BentoCache's `skipL2Write` and `skipBusNotify` do. A cache without tiers refuses them.
 */
export interface TierSetOptions extends SetOptions {
  /**
   * `false`: write this instance's L1 only; L2 (Redis) keeps what it had, so other instances and
   * restarts do not see the value. The bus still tells other instances to drop their L1 copy,
   * unless `bus` is `false` too.
   */
  readonly l2?: false
  /**
   * `false`: send no invalidation on the bus for this write: other instances keep their L1 copy
   * (until it expires or they refill it) while L2 gets the new value.
   */
  readonly bus?: false
}

/** True when the write asks to skip a tier or the bus. */
export function routed(options: TierSetOptions | undefined): options is TierSetOptions {
  return options !== undefined && (options.l2 !== undefined || options.bus !== undefined)
}

/** `cache.set` with a route (see {@link TierSetOptions}); `full`, `ttl` and `tags` already checked. */
export async function tierSet(
  ctx: CacheContext,
  key: string,
  full: string,
  value: unknown,
  ttl: number | null,
  tags: readonly string[] | undefined,
  options: TierSetOptions,
): Promise<void> {
  const store = ctx.shared.original
  for (const name of ['l2', 'bus'] as const) {
    if (options[name] !== undefined && options[name] !== false) {
      throw new InvalidOptionError(`set option ${name} must be false or left out`, { key })
    }
  }
  if (!(store instanceof TieredStore)) {
    throw new InvalidOptionError('set options l2 and bus need a tiered cache (createCache({ tiers }))', {
      key,
    })
  }
  if (ttl === 0) throw new InvalidOptionError('set with l2 or bus needs a TTL > 0 or null', { key })
  const stored = ctx.encode(value, key)
  noteChange(ctx.shared, [full])
  const route = { l2: options.l2 !== false, bus: options.bus !== false }
  await ctx.call('set', key, () => store.setRouted(full, stored, { ttl, tags }, route))
  ctx.counters.sets++
  ctx.publish('set', key)
}
