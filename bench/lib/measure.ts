import { Bench } from 'tinybench'

/** One contender's operation, timed in batches so the timer's own cost stays out of the figure. */
export interface OpTask {
  readonly name: string
  /** Runs `ops` operations. Keys and values must be made beforehand, outside this function. */
  readonly fn: () => unknown
  readonly async: boolean
  /** How many operations one call of `fn` performs. */
  readonly ops: number
}

export interface MeasureOptions {
  /** Time budget per task per round, in ms. */
  readonly time: number
  readonly warmupTime: number
  /** Rounds over all tasks, alternating forward and reverse order so no task always goes first. */
  readonly rounds: number
  /** Minimum calls of `fn` per task per round. Default 16. */
  readonly iterations?: number
}

export interface Measured {
  /**
   * Operations per second of the fastest round. Other processes on a shared machine can only slow
   * a round down, never speed it up, so the best round is the least disturbed estimate; each round
   * still averages many calls, GC pauses included.
   */
  readonly opsPerSec: number
  /** Mean time of one call of `fn` in that round, in ms. */
  readonly periodMs: number
  /** (fastest - slowest) / fastest round: how much the rounds disagreed. */
  readonly spread: number
  /** Operations per second of each round, in round order (see {@link pairedRatio}). */
  readonly rounds: readonly number[]
}

const gc = (globalThis as { gc?: () => void }).gc

/**
 * Runs every task side by side in one process with tinybench, `rounds` times, and returns the
 * best round of each (see {@link Measured.opsPerSec}). A forced GC (when `--expose-gc` is on) before each task keeps one
 * contender's garbage from being collected on the next one's clock.
 */
export async function measure(
  tasks: readonly OpTask[],
  options: MeasureOptions,
): Promise<Map<string, Measured>> {
  const names = new Set(tasks.map((task) => task.name))
  if (names.size !== tasks.length) throw new Error('task names must be unique')
  const throughput = new Map<string, number[]>()
  const periods = new Map<string, number[]>()
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? tasks : [...tasks].reverse()
    const bench = new Bench({
      time: options.time,
      warmupTime: options.warmupTime,
      iterations: options.iterations ?? 16,
      warmupIterations: 4,
      throws: true,
      setup: () => gc?.(),
    })
    for (const task of order) bench.add(task.name, task.fn, { async: task.async })
    await bench.run()
    for (const task of bench.tasks) {
      const result = task.result
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`)
      const spec = tasks.find((t) => t.name === task.name)!
      push(throughput, task.name, (spec.ops * 1000) / result.period)
      push(periods, task.name, result.period)
    }
  }
  const out = new Map<string, Measured>()
  for (const task of tasks) {
    const rounds = throughput.get(task.name)!
    const opsPerSec = Math.max(...rounds)
    out.set(task.name, {
      opsPerSec,
      periodMs: Math.min(...periods.get(task.name)!),
      spread: (opsPerSec - Math.min(...rounds)) / opsPerSec,
      rounds,
    })
  }
  return out
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** How the figures were taken, for the text above a table. */
export function roundsNote(options: MeasureOptions): string {
  return options.rounds === 1
    ? 'one round (a quick run: rough figures)'
    : `the fastest of ${options.rounds} rounds (± is how much slower the slowest round was)`
}

/**
 * `a` ÷ `b` as the median of their per-round ratios. Tasks next to each other in a round run
 * within a few hundred ms of each other, so load from other processes weighs on both alike; the
 * median then drops the rounds where it did not.
 */
export function pairedRatio(a: Measured, b: Measured): number {
  return median(a.rounds.map((ops, round) => ops / b.rounds[round]!))
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Runs calls `start..start+total` with `callers` concurrent callers, each awaiting its own in turn. */
export async function inFlight(
  callers: number,
  start: number,
  total: number,
  call: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = start
  const end = start + total
  const caller = async () => {
    while (next < end) await call(next++)
  }
  const running: Promise<void>[] = []
  for (let i = 0; i < callers; i++) running.push(caller())
  await Promise.all(running)
}

type Call = (j: number) => Promise<unknown>

/** A timed task of `batch` awaited calls in a row, `call(j)` with `j` walking `0..n-1` round robin. */
export function serialTask(name: string, batch: number, n: number, call: Call): OpTask {
  return roundRobin(name, batch, n, async (start) => {
    for (let j = start; j < start + batch; j++) await call(j)
  })
}

/** A timed task of `batch` calls by `callers` concurrent callers (see {@link inFlight}), round robin over `0..n-1`. */
export function inFlightTask(name: string, callers: number, batch: number, n: number, call: Call): OpTask {
  return roundRobin(name, batch, n, (start) => inFlight(callers, start, batch, call))
}

function roundRobin(
  name: string,
  batch: number,
  n: number,
  run: (start: number) => Promise<unknown>,
): OpTask {
  let at = 0
  return {
    name,
    async: true,
    ops: batch,
    fn: () => {
      const start = at
      at = (at + batch) % n
      return run(start)
    },
  }
}
