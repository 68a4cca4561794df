import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocks } from '../../src/lock/index.js'
import { channel } from '../../src/pubsub/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { waitFor } from '../support/processes.js'
import { type RedisServer, redisAvailable } from '../support/redis.js'
import { type ClusterSetup, startCluster } from '../support/redis-topologies.js'

/** Channel keys as `channel()` names them: prefix and `{name}` hash tag. */
const keyOf = (name: string) => `cachekit:channel:{${name}}`

/** Lines of a redis-cli array reply. */
const lines = (reply: string) => reply.split('\n').filter((line) => line.length > 0)

describe.skipIf(!redisAvailable())('sharded pub/sub on Redis Cluster', () => {
  let setup: ClusterSetup
  const stores: RedisStore[] = []
  const store = (options: { shardedPubSub?: boolean | 'auto' } = {}) => {
    const s = redisStore({ url: setup.url, timeout: 2000, onLog: () => {}, ...options })
    stores.push(s)
    return s
  }
  /** A node's answer, or nothing from a node that is down. */
  const ask = (node: RedisServer, ...args: string[]) => {
    try {
      return lines(node.cli(...args))
    } catch {
      return []
    }
  }
  /** The nodes (masters) that hold a sharded subscription to `key`. */
  const shardOwners = (key: string): RedisServer[] =>
    setup.nodes.filter((node) => ask(node, 'PUBSUB', 'SHARDCHANNELS', key).includes(key))
  const classicAnywhere = (key: string) =>
    setup.nodes.some((node) => ask(node, 'PUBSUB', 'CHANNELS', key).includes(key))

  beforeAll(async () => {
    setup = await startCluster()
  })
  afterAll(async () => {
    for (const s of stores) await s.close()
    await setup?.stop()
  })

  it('channels use SSUBSCRIBE on the slot owner; messages keep publish order across nodes', async () => {
    const sub = store()
    const pubs = [store(), store()]
    const names = ['s-alpha', 's-beta', 's-gamma', 's-delta', 's-epsilon']
    const got = new Map<string, string[]>()
    for (const name of names) {
      await channel<string>(name, { store: sub }).subscribe((m) => {
        got.set(name, [...(got.get(name) ?? []), m])
      })
    }
    await waitFor(() => sub.stats().subscriptions.live === names.length, 10_000)
    const slots = new Set(names.map((name) => setup.nodes[0]!.cli('CLUSTER', 'KEYSLOT', keyOf(name))))
    expect(slots.size).toBe(names.length)
    const owners = new Set<number>()
    for (const name of names) {
      const holders = shardOwners(keyOf(name))
      expect(holders).toHaveLength(1)
      owners.add(holders[0]!.port)
      expect(classicAnywhere(keyOf(name))).toBe(false)
    }
    // The names spread over more than one master.
    expect(owners.size).toBeGreaterThan(1)
    await Promise.all(
      pubs.map(async (pub, p) => {
        for (const name of names) {
          const ch = channel<string>(name, { store: pub })
          for (let n = 0; n < 40; n++) await ch.publish(`${p}:${n}`)
        }
      }),
    )
    await waitFor(() => names.every((name) => got.get(name)?.length === 80), 10_000)
    for (const name of names) {
      for (const p of [0, 1]) {
        const mine = got.get(name)!.filter((m) => m.startsWith(`${p}:`))
        expect(mine).toEqual(Array.from({ length: 40 }, (_, n) => `${p}:${n}`))
      }
    }
  })

  it('shardedPubSub takes true, false or auto', () => {
    expect(() => redisStore({ url: setup.url, shardedPubSub: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
  })

  it('shardedPubSub: false keeps classic SUBSCRIBE/PUBLISH', async () => {
    const sub = store({ shardedPubSub: false })
    const pub = store({ shardedPubSub: false })
    const got: number[] = []
    await channel<number>('classic-one', { store: sub }).subscribe((n) => void got.push(n))
    await waitFor(() => sub.stats().subscriptions.live === 1, 10_000)
    expect(classicAnywhere(keyOf('classic-one'))).toBe(true)
    expect(shardOwners(keyOf('classic-one'))).toHaveLength(0)
    for (let n = 0; n < 5; n++) await channel<number>('classic-one', { store: pub }).publish(n)
    await waitFor(() => got.length === 5, 5000)
    // node-redis 6 sends a classic PUBLISH to any node (its command policy ignores the routing
    // key), which forwards it over the cluster bus: every message arrives, order is not kept.
    expect([...got].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4])
  })

  it('internal channels: the invalidation bus is sharded, lock wake-ups stay classic and work', async () => {
    const a = store()
    const b = store()
    const heard: string[][] = []
    await b.invalidationBus().subscribe({
      message: (invalidation) => void heard.push([...(invalidation.keys ?? [])]),
      up: () => {},
      down: () => {},
    })
    await waitFor(() => b.stats().subscriptions.live === 1, 10_000)
    expect(shardOwners('cachekit:invalidate')).toHaveLength(1)
    await a.invalidationBus().publish({ origin: 'test', keys: ['k1'] })
    await waitFor(() => heard.length === 1, 5000)
    expect(heard).toEqual([['k1']])

    // Lock releases are published by a script on the lock's slot to one channel for all locks,
    // so the lock's subscription stays classic; the release message still reaches the waiter.
    const released: string[] = []
    await b.channel('cachekit:lock', { sharded: false }).subscribe((key) => void released.push(key))
    const [one, two] = [a, b].map((s) => createLocks({ store: s })) as [
      ReturnType<typeof createLocks>,
      ReturnType<typeof createLocks>,
    ]
    const first = await one.lock('sharded-report', { ttl: 10_000 })
    const second = two.lock('sharded-report', { ttl: 10_000, wait: 8000 })
    await new Promise((r) => setTimeout(r, 100))
    await first.release()
    const next = await second
    expect(next.token).toBeGreaterThan(first.token)
    await waitFor(() => released.length >= 1, 5000)
    expect(released[0]).toContain('sharded-report')
    expect(classicAnywhere('cachekit:lock')).toBe(true)
    await next.release()
    await one.close()
    await two.close()
  })

  it('ioredis: a Cluster with shardedSubscribers shards; without, auto stays classic, true is refused', async () => {
    const clients = [true, false].map(
      (shardedSubscribers) => new Cluster([...setup.rootNodes], { shardedSubscribers }),
    )
    try {
      await Promise.all(clients.map((c) => new Promise((resolve) => c.once('ready', resolve))))
      const [withShards, without] = clients as [Cluster, Cluster]
      expect(() => redisStore({ client: without, shardedPubSub: true })).toThrow(
        expect.objectContaining({ code: 'E_UNSUPPORTED' }),
      )
      const sharded = redisStore({ client: withShards, timeout: 2000 })
      const classic = redisStore({ client: without, timeout: 2000 })
      stores.push(sharded, classic)
      const got: number[] = []
      const gotClassic: number[] = []
      await channel<number>('io-sharded', { store: sharded }).subscribe((n) => void got.push(n))
      await channel<number>('io-classic', { store: classic }).subscribe((n) => void gotClassic.push(n))
      await waitFor(
        () => sharded.stats().subscriptions.live === 1 && classic.stats().subscriptions.live === 1,
        10_000,
      )
      expect(shardOwners(keyOf('io-sharded'))).toHaveLength(1)
      expect(classicAnywhere(keyOf('io-sharded'))).toBe(false)
      expect(classicAnywhere(keyOf('io-classic'))).toBe(true)
      // A node-redis store publishes with SPUBLISH; the ioredis subscriber hears it.
      const pub = store()
      for (let n = 0; n < 10; n++) await channel<number>('io-sharded', { store: pub }).publish(n)
      for (let n = 0; n < 10; n++) await channel<number>('io-classic', { store: classic }).publish(n)
      await waitFor(() => got.length === 10 && gotClassic.length === 10, 5000)
      expect(got).toEqual([...Array(10).keys()])
      // Classic PUBLISH through an ioredis Cluster goes to a random node, so messages reach the
      // subscriber over the cluster bus from several nodes: all arrive, not necessarily in order.
      expect([...gotClassic].sort((a, b) => a - b)).toEqual([...Array(10).keys()])
    } finally {
      for (const s of stores.splice(0)) await s.close()
      for (const c of clients) c.disconnect()
    }
  })

  it('a subscriber follows its slot when the slot moves to another master', async () => {
    const sub = store()
    const pub = store()
    const name = 'moving'
    const got: number[] = []
    await channel<number>(name, { store: sub }).subscribe((n) => void got.push(n))
    await waitFor(() => sub.stats().subscriptions.live === 1, 10_000)
    const ch = channel<number>(name, { store: pub })
    await ch.publish(0)
    await waitFor(() => got.length === 1, 5000)
    const source = shardOwners(keyOf(name))[0]!
    const masters = setup.nodes.filter((node) => ask(node, 'ROLE')[0] === 'master')
    const target = masters.find((node) => node !== source)!
    const slot = source.cli('CLUSTER', 'KEYSLOT', keyOf(name)).trim()
    const id = (node: RedisServer) => node.cli('CLUSTER', 'MYID').trim()
    // Move the (keyless) slot by hand, as redis-cli --cluster reshard does.
    target.cli('CLUSTER', 'SETSLOT', slot, 'IMPORTING', id(source))
    source.cli('CLUSTER', 'SETSLOT', slot, 'MIGRATING', id(target))
    for (const node of [target, source, ...masters.filter((m) => m !== source && m !== target)]) {
      node.cli('CLUSTER', 'SETSLOT', slot, 'NODE', id(target))
    }
    // The old owner drops the channel (SUNSUBSCRIBE to its subscribers); it is re-made on the new one.
    await waitFor(() => shardOwners(keyOf(name)).some((node) => node === target), 10_000)
    expect(shardOwners(keyOf(name))).toEqual([target])
    await waitFor(() => sub.stats().subscriptions.live === 1, 10_000)
    for (let n = 1; n <= 20; n++) await ch.publish(n).catch(() => {})
    await waitFor(() => got.at(-1) === 20, 10_000)
    expect(got).toEqual([...got].sort((a, b) => a - b))
  })

  it('a subscriber survives the failover of its slot master; a durable one reads the gap', async () => {
    await survivesFailover(setup, store(), store())
  }, 90_000)
})

/**
 * Kills the master owning the channels' slot while `pub` keeps publishing: `sub`'s plain channel
 * hears messages published after the failover, its durable channel gets every accepted message.
 */
async function survivesFailover(setup: ClusterSetup, sub: RedisStore, pub: RedisStore): Promise<void> {
  const ask = (node: RedisServer, ...args: string[]) => {
    try {
      return lines(node.cli(...args))
    } catch {
      return []
    }
  }
  const shardOwners = (key: string): RedisServer[] =>
    setup.nodes.filter((node) => ask(node, 'PUBSUB', 'SHARDCHANNELS', key).includes(key))
  const live: number[] = []
  const durable: number[] = []
  // Both channels on one slot (same hash tag, another prefix), so one master's death hits both.
  const name = 'failover'
  const durableOptions = { durable: { maxLen: 1000 }, prefix: 'durable:' }
  await channel<number>(name, { store: sub }).subscribe((n) => void live.push(n))
  await channel<number>(name, { store: sub, ...durableOptions }).subscribe((n) => void durable.push(n))
  await waitFor(() => sub.stats().subscriptions.live === 2, 10_000)
  const victim = shardOwners(keyOf(name))[0]!
  expect(shardOwners(`durable:{${name}}`)).toEqual([victim])
  const liveCh = channel<number>(name, { store: pub })
  const durableCh = channel<number>(name, { store: pub, ...durableOptions })
  await liveCh.publish(0)
  await durableCh.publish(0)
  await waitFor(() => live.length === 1 && durable.length === 1, 5000)

  await victim.kill()
  // The store notices the subscriptions' node is gone (its status goes down: `stats()` says pending).
  await waitFor(() => sub.stats().subscriptions.pending === 2, 10_000)
  // Keep publishing through the failover: the durable channel must end up with every message.
  let n = 1
  const accepted = [0]
  const deadline = performance.now() + 40_000
  while (performance.now() < deadline) {
    const value = n
    await durableCh.publish(value).then(
      () => void accepted.push(value),
      () => {},
    )
    await liveCh.publish(n).catch(() => {})
    n++
    const after = live.filter((v) => v > 0)
    if (after.length >= 3 && durable.length === accepted.length) break
    await new Promise((r) => setTimeout(r, 100))
  }
  // Live messages published after the subscription moved arrive, in order.
  const after = live.slice(1)
  expect(after.length).toBeGreaterThanOrEqual(3)
  expect(after).toEqual([...after].sort((x, y) => x - y))
  // The durable channel lost nothing that was accepted: the catch-up read the gap.
  await waitFor(() => durable.length === accepted.length, 10_000)
  expect(durable).toEqual(accepted)
  // Live again (status up, which is what made the durable subscriber catch up at once).
  await waitFor(() => sub.stats().subscriptions.live === 2, 10_000)
  // The dead master's process comes back and rejoins the cluster: nothing changes for the subscriber.
  await victim.restart()
  await new Promise((r) => setTimeout(r, 2000))
  const before = live.length
  await liveCh.publish(1_000_000)
  await waitFor(() => live.length === before + 1, 5000)
  expect(live.at(-1)).toBe(1_000_000)
  // Now held by the new master, sharded.
  const holders = shardOwners(keyOf(name))
  expect(holders).toHaveLength(1)
  expect(holders[0]!.port).not.toBe(victim.port)
}
