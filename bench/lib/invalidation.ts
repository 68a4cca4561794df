/**
 * Parent side of the cross-process invalidation tests (bench/tiers.ts, bench/client-tracking.ts):
 * child processes running lib/invalidation-child.ts, each with its own locally cached client of one
 * library on the same Redis, driven over IPC; and the latency test built on them.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generate } from './data.js'
import type { Library, Pace, Reply, Request } from './invalidation-child.js'
import { IpcChild } from './ipc-child.js'
import { type BenchRedis, command } from './redis-server.js'

export interface Latency {
  /** ns from the write's start to a reader's first read of the new value, per reader per round. */
  readonly samples: number[]
  readonly writeNs: number[]
  /** Rounds discarded because a reader could not prove the key was in its L1. */
  invalid: number
  /** Reader rounds that never saw the new value. */
  lost: number
}

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'invalidation-child.ts')

/**
 * One writer and `readers` readers, `writes` rounds. Before timing, the writer writes one key per
 * round (value `{ round, v: 0 }`) and, after 300 ms for its messages to pass, each reader reads
 * them all, which fills its local cache. Each round, every reader first proves it serves the key
 * locally (how depends on the library, see {@link Reply} `started`), then reads it in a loop (at
 * `pace`) until it sees the writer's `{ round, v: 1 }`.
 */
export async function invalidationLatency(
  server: BenchRedis,
  library: Library,
  writes: number,
  readers: number,
  pace: Pace,
): Promise<Latency> {
  const children = Array.from({ length: 1 + readers }, () => new Child(library, server.url))
  try {
    const started = await Promise.all(children.map((c) => c.next('started')))
    const [writer, ...others] = children as [Child, ...Child[]]
    const keys = generate(writes, (i) => `inv:${i}`)
    const l2Key = (key: string) => started[0]!.l2Key.replace(/k$/, key)

    writer.send({ type: 'prime', keys })
    await writer.next('primed')
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const reader of others) reader.send({ type: 'load', keys })
    for (const loaded of await Promise.all(others.map((r) => r.next('loaded')))) {
      if (!loaded.ok) throw new Error(`${library}: a reader did not read back the primed values`)
    }

    const result: Latency = { samples: [], writeNs: [], invalid: 0, lost: 0 }
    for (const [round, key] of keys.entries()) {
      // Proof by deletion: without a bus message the key can then only come from L1. Libraries
      // whose local cache is invalidated by the server itself count their local hits instead.
      if (started[0]!.proof === 'l2-delete' && (await command(server.port, `DEL ${l2Key(key)}`)) !== '1') {
        throw new Error(`${library}: ${l2Key(key)} was not in Redis; the L1 proof would mean nothing`)
      }
      for (const reader of others) reader.send({ type: 'arm', key, round, pace })
      const armed = await Promise.all(others.map((r) => r.next('armed')))
      const seen = Promise.all(others.map((r) => r.next('seen')))
      writer.send({ type: 'write', key, round })
      const written = await writer.next('written')
      const replies = await seen
      if (!armed.every((a) => a.l1)) {
        result.invalid++
        continue
      }
      const t0 = BigInt(written.t0)
      result.writeNs.push(Number(BigInt(written.t1) - t0))
      for (const reply of replies) {
        if (reply.at === null) result.lost++
        else result.samples.push(Number(BigInt(reply.at) - t0))
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    return result
  } finally {
    for (const child of children) child.close()
  }
}

/** One child process (lib/invalidation-child.ts) of one library, driven over IPC. */
export class Child extends IpcChild<Request, Reply> {
  constructor(library: Library, url: string) {
    super(childScript, [library, url], 'an invalidation child', { type: 'close' })
  }
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
