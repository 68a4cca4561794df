/**
 * What the Redis store owes on every topology beyond standalone (Sentinel, Cluster): the store
 * contract, and pub/sub that adds one set of status listeners per store and closes within bounds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { redisStore } from '../../src/stores/redis/index.js'
import { runStoreConformance } from '../../src/testing/index.js'
import { activeHandles, leakedHandles, waitFor } from './processes.js'

/** A node-redis client (cluster or sentinel), as far as these checks use it. */
interface TopologyClient {
  on(event: 'error', listener: () => void): unknown
  connect(): Promise<unknown>
  listenerCount(event: string): number
  destroy(): void
}

/**
 * Registers, inside the caller's `describe`, the conformance suite and the pub/sub checks for the
 * topology at `url()` (read lazily: the topology starts in the caller's `beforeAll`).
 */
export function topologyChecks(
  name: string,
  url: () => string,
  client: () => TopologyClient,
  timeout: number,
) {
  runStoreConformance(
    { describe, it, beforeEach, afterEach },
    { name, createStore: () => redisStore({ url: url(), timeout }) },
  )

  it('pub/sub: status listeners once per store however many subscriptions; close is bounded, no handle left', async () => {
    const given = client()
    given.on('error', () => {})
    await given.connect()
    const events = ['ready', 'error', 'end']
    const before = events.map((e) => given.listenerCount(e))
    const store = redisStore({ client: given, timeout: 1000 })
    const heard: string[] = []
    for (let i = 0; i < 10; i++) await store.channel(`c${i}`).subscribe((m) => heard.push(m))
    await waitFor(() => store.stats().subscriptions.live === 10, 10_000)
    // One set for the store's connection watch, one for its pub/sub status: not one per subscription.
    expect(events.map((e, i) => given.listenerCount(e) - (before[i] as number))).toEqual([2, 2, 2])
    await store.channel('c3').publish('hello')
    await waitFor(() => heard.includes('hello'), 3000)
    await store.close()
    given.destroy()

    const handles = activeHandles()
    const own = redisStore({ url: url(), timeout: 1000 })
    own.channel('c').subscribe(() => {})
    await own.ready()
    await waitFor(() => own.stats().subscriptions.live === 1, 10_000)
    const started = performance.now()
    await own.close()
    expect(performance.now() - started).toBeLessThan(2000)
    expect(leakedHandles(handles)).toEqual([])
  }, 30_000)
}
