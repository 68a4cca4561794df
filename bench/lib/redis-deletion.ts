/** The deletion-by-pattern part of the Redis scenario: each contender's deleter over 100,000 keys. */
import { createClient } from 'redis'
import type { RedisContender } from './redis-contenders.js'
import type { BenchRedis } from './redis-server.js'
import { progress } from './scenario.js'

export const DELETE_KEYS = 100_000
/** Keys outside the pattern that every deletion must leave alone. */
export const BYSTANDERS = 10_000
const VALUE = 'x'.repeat(1024)

export interface Deletion {
  /** keys/s of each round, in round order. */
  readonly rounds: number[]
  best: number
  bestMs: number
}

/**
 * Each round, per contender: the server is emptied, {@link DELETE_KEYS} 1 KB keys under the
 * contender's pattern and {@link BYSTANDERS} others are written raw, and only the deletion is
 * timed; exactly the bystanders must remain.
 */
export async function measureDeletion(
  server: BenchRedis,
  contenders: readonly RedisContender[],
  rounds: number,
): Promise<Map<string, Deletion>> {
  const admin = createClient({ url: server.url, commandOptions: { timeout: 0 } })
  await admin.connect()
  const out = new Map<string, Deletion>()
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const c of order) {
        progress(
          `round ${round + 1}/${rounds}: ${c.name} deleting ${DELETE_KEYS.toLocaleString('en-US')} keys`,
        )
        await admin.flushAll()
        await fill(admin, c.deleter.prefix, DELETE_KEYS)
        await fill(admin, 'bystander:', BYSTANDERS)
        if ((await admin.dbSize()) !== DELETE_KEYS + BYSTANDERS)
          throw new Error('fill did not write every key')
        const t0 = performance.now()
        await c.deleter.run()
        const ms = performance.now() - t0
        const left = await admin.dbSize()
        if (left !== BYSTANDERS) {
          throw new Error(
            `${c.name}: ${left} keys left after deleting, expected the ${BYSTANDERS} bystanders`,
          )
        }
        const keysPerSec = (DELETE_KEYS * 1000) / ms
        const d = out.get(c.name) ?? { rounds: [], best: 0, bestMs: Number.POSITIVE_INFINITY }
        d.rounds.push(keysPerSec)
        if (keysPerSec > d.best) {
          d.best = keysPerSec
          d.bestMs = ms
        }
        out.set(c.name, d)
      }
    }
    await admin.flushAll()
  } finally {
    admin.destroy()
  }
  return out
}

/** Writes `${prefix}0..n-1` with 1 KB values, 1,000 keys per MSET, 16 MSETs in flight. */
async function fill(
  client: { mSet(pairs: [string, string][]): Promise<unknown> },
  prefix: string,
  n: number,
): Promise<void> {
  const batches: Promise<unknown>[] = []
  for (let at = 0; at < n; at += 1000) {
    const pairs: [string, string][] = []
    for (let i = at; i < Math.min(n, at + 1000); i++) pairs.push([`${prefix}${i}`, VALUE])
    batches.push(client.mSet(pairs))
    if (batches.length === 16) await Promise.all(batches.splice(0))
  }
  await Promise.all(batches)
}
