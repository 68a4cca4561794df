/** Label values past a guard's limit are reported under this one. */
export const OTHER = '_other'

/**
 * Keeps one label's values bounded: the first `max` distinct values pass, later new ones become
 * {@link OTHER}, so a label fed from data (namespaces made per user, purposes, routes) can never
 * grow the series count without bound.
 */
export class LabelGuard {
  readonly #seen = new Set<string>()

  constructor(readonly max: number) {}

  value(raw: string | undefined, fallback = ''): string {
    const value = raw === undefined || raw === '' ? fallback : raw.length > 100 ? raw.slice(0, 100) : raw
    if (this.#seen.has(value)) return value
    if (this.#seen.size >= this.max) return OTHER
    this.#seen.add(value)
    return value
  }
}

/** The `cache` label of a cache: its prefix, or `default` for a cache without one. */
export function cacheLabel(prefix: string): string {
  return prefix === '' ? 'default' : prefix
}
