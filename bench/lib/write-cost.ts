/**
 * Part 3 of the client-tracking scenario (bench/client-tracking.ts): what a write costs when other
 * processes (lib/invalidation.ts children) track or subscribe, against a writer alone.
 */
import { generate } from './data.js'
import { Child } from './invalidation.js'
import type { Library } from './invalidation-child.js'
import { type BenchRedis, command, commandCounts, commandDelta } from './redis-server.js'

/** Other processes that hold the keys locally. */
export const READERS = 3
/** Keys written per timed pass, and passes per setting. */
export const WRITE_KEYS = 5_000
export const QUICK_WRITE_KEYS = 1_000
export const WRITE_ROUNDS = 5
export const QUICK_WRITE_ROUNDS = 1
export const IN_FLIGHT = [1, 32] as const

export interface WriteCost {
  /** ops/s of the best pass, per in-flight setting: writer alone, and with READERS readers. */
  readonly alone: Map<number, number>
  readonly withReaders: Map<number, number>
  /** What the server ran during one pass with readers, per write. */
  readonly commands: string
  /** Server tracking-table items (INFO stats) before and after one pass with readers. */
  readonly trackedBefore: number
  readonly trackedAfter: number
}

/**
 * Alternates passes of the writer alone and passes with {@link READERS} fresh reader processes
 * (started for the pass, closed after it), so neither setting always runs first or on a colder JIT.
 */
export async function writeCost(server: BenchRedis, library: Library, quick: boolean): Promise<WriteCost> {
  const keys = generate(quick ? QUICK_WRITE_KEYS : WRITE_KEYS, (i) => `wc:${i}`)
  const rounds = quick ? QUICK_WRITE_ROUNDS : WRITE_ROUNDS
  const alone = new Map<number, number>()
  const withReaders = new Map<number, number>()
  const flood = async (writer: Child, inFlight: number, into?: Map<number, number>) => {
    writer.send({ type: 'flood', keys, inFlight })
    const { ns } = await writer.next('flooded', 60_000)
    const perSec = (keys.length * 1e9) / Number(ns)
    into?.set(inFlight, Math.max(into.get(inFlight) ?? 0, perSec))
  }
  const writer = new Child(library, server.url)
  let readers: Child[] = []
  let commands = ''
  let trackedBefore = Number.NaN
  let trackedAfter = Number.NaN
  try {
    await writer.next('started')
    // Untimed: writes every key once and warms the writer up.
    for (const inFlight of IN_FLIGHT) await flood(writer, inFlight)
    for (let round = 0; round < rounds; round++) {
      for (const inFlight of IN_FLIGHT) await flood(writer, inFlight, alone)
      readers = Array.from({ length: READERS }, () => new Child(library, server.url))
      await Promise.all(readers.map((r) => r.next('started')))
      for (const inFlight of IN_FLIGHT) {
        // Every reader holds every key locally before the pass, so each write invalidates in all.
        for (const reader of readers) reader.send({ type: 'load', keys })
        for (const loaded of await Promise.all(readers.map((r) => r.next('loaded', 60_000)))) {
          if (!loaded.ok) throw new Error(`${library}: a reader did not read back the written values`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
        const before = await commandCounts(server.port)
        trackedBefore = trackedItems(await command(server.port, 'INFO stats'))
        await flood(writer, inFlight, withReaders)
        trackedAfter = trackedItems(await command(server.port, 'INFO stats'))
        // The INFO readings around the pass are not the writer's.
        const delta = commandDelta(before, await commandCounts(server.port))
        commands = [...delta]
          .filter(([name]) => name !== 'info')
          .map(([name, n]) => `${(n / keys.length).toFixed(2)} ${name.toUpperCase()}`)
          .join(' + ')
      }
      for (const reader of readers) reader.close()
      readers = []
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return { alone, withReaders, commands, trackedBefore, trackedAfter }
  } finally {
    writer.close()
    for (const reader of readers) reader.close()
  }
}

export function trackedItems(stats: string): number {
  return Number(/^tracking_total_items:(\d+)/m.exec(stats)?.[1] ?? Number.NaN)
}
