import { globMatcher, type StoreCore } from '../../src/index.js'

/**
 * The smallest possible byte-keeping store: the required core only, over a Map. It exercises the
 * cache's codec path and `completeStore`'s generic methods, as a third-party store would.
 */
export function bytesMapStore(): StoreCore {
  const entries = new Map<string, { bytes: Uint8Array; expiresAt: number | null }>()
  const live = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }
  return {
    name: 'bytes-map',
    capabilities: { valueKind: 'bytes', atomic: false, shared: false, tags: false },
    get: async (key) => live(key)?.bytes,
    set: async (key, value, { ttl }) => {
      if (!(value instanceof Uint8Array)) throw new TypeError('bytes-map stores bytes only')
      entries.set(key, { bytes: Buffer.from(value), expiresAt: ttl === null ? null : Date.now() + ttl })
    },
    delete: async (key) => live(key) !== undefined && entries.delete(key),
    async *keys(pattern) {
      const matches = globMatcher(pattern)
      for (const key of [...entries.keys()]) if (matches(key) && live(key)) yield key
    },
    close: () => entries.clear(),
  }
}

/** Adds `ttl` to {@link bytesMapStore} (it cannot know expiry otherwise). */
export function bytesMapStoreWithTtl(): StoreCore & { ttl(key: string): number | null | undefined } {
  const base = bytesMapStore()
  const expiries = new Map<string, number | null>()
  return {
    ...base,
    set: async (key, value, options) => {
      await base.set(key, value, options)
      expiries.set(key, options.ttl === null ? null : Date.now() + options.ttl)
    },
    ttl: (key) => {
      const at = expiries.get(key)
      if (at === undefined) return undefined
      if (at === null) return null
      const left = at - Date.now()
      return left > 0 ? left : undefined
    },
  }
}
