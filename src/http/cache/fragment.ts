import { createHash } from 'node:crypto'
import type { Cache } from '../../cache/index.js'
import type { Duration, Ttl } from '../../internal/index.js'

/** A value a fragment varies on (Django's `{% cache 500 sidebar request.user.username %}`). */
export type FragmentVary = string | number | boolean | null | undefined

/** Options of {@link fragment}. */
export interface FragmentOptions {
  readonly ttl?: Ttl
  readonly tags?: readonly string[]
  readonly grace?: Duration
}

/**
 * The cache key of a fragment: its name and a hash of what it varies on, typed (`'1'` and `1`
 * differ). Delete it to drop one fragment: `cache.delete(fragmentKey('sidebar', [user]))`.
 */
export function fragmentKey(name: string, varyOn: readonly FragmentVary[] = []): string {
  const hash = createHash('sha1').update(JSON.stringify(varyOn.map((v) => (v === undefined ? null : v))))
  return `fragment:${name}:${hash.digest('base64url')}`
}

/**
 * A named piece of server-rendered HTML, cached with its vary-on values, with single flight and
 * grace from `getOrSet`:
 *
 * ```ts
 * const sidebar = await fragment(cache, 'sidebar', [user.name], () => renderSidebar(user), { ttl: '500s' })
 * ```
 */
export function fragment(
  cache: Cache,
  name: string,
  varyOn: readonly FragmentVary[],
  render: () => string | Promise<string>,
  options: FragmentOptions = {},
): Promise<string> {
  return cache.getOrSet(fragmentKey(name, varyOn), () => render(), options)
}
