/**
 * Caches (and stores, servers...) a test opens are closed by the harness, not by each test: hand
 * them to a keeper and they are closed after each test, or after the suite, in the order given.
 */
import { afterAll, afterEach } from 'vitest'
import { type Cache, type CacheOptions, createCache, memoryStore } from '../../src/index.js'

export interface Closable {
  close(): Promise<unknown>
}

/**
 * Registers an `afterEach` (or, with `'all'`, an `afterAll`) in the enclosing describe or file,
 * closing everything given to the returned keeper since; the keeper returns what it was given.
 */
export function closing(when: 'each' | 'all' = 'each'): <T extends Closable>(thing: T) => T {
  const open: Closable[] = []
  ;(when === 'each' ? afterEach : afterAll)(async () => {
    for (const thing of open.splice(0)) await thing.close()
  })
  return (thing) => {
    open.push(thing)
    return thing
  }
}

/** `make(options)`: a cache (on a new memory store unless `options` name one), closed after each test. */
export function cacheMaker(): (options?: Partial<CacheOptions>) => Cache {
  const keep = closing()
  return (options = {}) => keep(createCache({ store: memoryStore(), ...options } as CacheOptions))
}
