import type { StoreCapabilities, StoreCore, StoreEntry, StoreExtras, StoreStats } from '../types.js'

const CAPABILITIES: StoreCapabilities = { valueKind: 'value', atomic: true, shared: false, tags: true }

/**
 * A store that keeps nothing, as Django's `DummyCache`: every read misses, every write is accepted
 * and forgotten, so `getOrSet` always calls its factory. For tests, and for turning caching off by
 * configuration without changing the code that uses the cache. `add` reports a write (as Django's
 * does) and `incr` counts from 0 every time (the key is always missing).
 */
export class DummyStore implements StoreCore, StoreExtras {
  readonly name = 'dummy'
  readonly capabilities = CAPABILITIES

  get(): undefined {
    return undefined
  }
  getEntry(): StoreEntry | undefined {
    return undefined
  }
  set(): void {}
  add(): boolean {
    return true
  }
  has(): boolean {
    return false
  }
  delete(): boolean {
    return false
  }
  getMany(keys: readonly string[]): readonly unknown[] {
    return keys.map(() => undefined)
  }
  setMany(): void {}
  deleteMany(): number {
    return 0
  }
  incr(_key: string, delta: number): number {
    return delta
  }
  touch(): boolean {
    return false
  }
  ttl(): undefined {
    return undefined
  }
  async *keys(): AsyncIterable<string> {}
  deletePattern(): number {
    return 0
  }
  deleteByTag(): number {
    return 0
  }
  expireByTag(): number {
    return 0
  }
  stats(): StoreStats {
    return { entries: 0, bytes: 0, evictions: 0 }
  }
  close(): void {}
}

/** Creates a {@link DummyStore}: `createCache({ store: process.env.CACHE_OFF ? dummyStore() : ... })`. */
export function dummyStore(): DummyStore {
  return new DummyStore()
}
