/**
 * The key space of a memory store with a home: the keys of the cache that owns the store (its
 * prefix, e.g. `hlvm:`) are kept without that prefix, so a hit looks up the caller's own string,
 * whose hash V8 has already cached, instead of a new `prefix + key` string it must build, flatten
 * and hash. Every other key is kept whole behind a NUL mark, so the two spaces never meet:
 *
 * - `home + k` → `k` when `k` is non-empty and does not start with NUL;
 * - any other key `f` → NUL + `f`.
 *
 * Without a home, keys are kept as they are.
 */
export class HomeKeys {
  #home: string | undefined

  get home(): string | undefined {
    return this.#home
  }

  /** Sets the home once; later calls (or a different base) change nothing. */
  claim(base: string): boolean {
    if (this.#home === undefined && base !== '') this.#home = base
    return this.#home === base
  }

  /** The key kept in the LRU for a store key. */
  inner(key: string): string {
    const home = this.#home
    if (home === undefined) return key
    if (key.length > home.length && key.startsWith(home) && key.charCodeAt(home.length) !== 0) {
      return key.slice(home.length)
    }
    return `\u0000${key}`
  }

  /** The store key for a key kept in the LRU. */
  outer(inner: string): string {
    const home = this.#home
    if (home === undefined) return inner
    return inner.charCodeAt(0) === 0 ? inner.slice(1) : home + inner
  }
}
