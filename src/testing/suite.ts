import type { Cache } from '../cache/index.js'
import type { StoreCapabilities } from '../stores/index.js'

/** The test functions of your runner (vitest, jest, mocha, `node:test`): only these four are used. */
export interface TestApi {
  describe(name: string, fn: () => void): void
  it(name: string, fn: () => Promise<void> | void): void
  beforeEach(fn: () => Promise<void> | void): void
  afterEach(fn: () => Promise<void> | void): void
}

/** What each part of the conformance suite registers its tests with; `cache` and `other` change per test. */
export interface SuiteContext {
  readonly describe: TestApi['describe']
  readonly it: TestApi['it']
  /** The current test's cache, with a random prefix. */
  readonly cache: Cache
  /** A cache of another prefix on the same store, which no operation of `cache` may touch. */
  readonly other: Cache
  /** A TTL short enough to wait out in a test. */
  readonly shortTtl: number
  /** What the cache sees of the store (with tiers, the two tiers as one). */
  capabilities(): StoreCapabilities
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const item of iterable) out.push(item)
  return out
}
