import { RETHROW } from '../../internal/index.js'
import { isReserved } from './bookkeeping.js'
import { unlink } from './commands.js'
import type { NodeSender, RedisDriver } from './driver.js'
import type { Guard } from './guard.js'

/** UNLINK batches in flight at once during deletePattern. */
const IN_FLIGHT = 8

/** SCAN pages of one master, reserved keys left out; each round trip under the store's deadline. */
export async function* scanPages(
  guard: Guard,
  send: NodeSender,
  pattern: string,
  count: number,
  op: string,
): AsyncGenerator<string[]> {
  let cursor = '0'
  do {
    const reply = (await guard.call(
      op,
      () => send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count)]),
      RETHROW,
    )) as [Buffer | string, (Buffer | string)[]]
    cursor = String(reply[0])
    const keys: string[] = []
    for (const raw of reply[1]) {
      const key = raw.toString()
      if (!isReserved(key)) keys.push(key)
    }
    yield keys
  } while (cursor !== '0')
}

/**
 * SCAN + UNLINK in batches on every master, up to {@link IN_FLIGHT} batches at once. Every batch
 * is observed whatever happens: when a SCAN page fails (a stall), the batches already sent are
 * awaited before the error is thrown, so none ends as an unhandled rejection.
 */
export async function deleteMatching(guard: Guard, pattern: string, count: number): Promise<number> {
  const masters = await guard.call('deletePattern', (d) => d.masters(), RETHROW)
  let deleted = 0
  let failure: { error: unknown } | undefined
  const inFlight = new Set<Promise<void>>()
  const remove = (d: RedisDriver, send: NodeSender, page: string[]) =>
    d.topology === 'cluster' ? unlink(d, page) : send(['UNLINK', ...page]).then(Number)
  try {
    for (const send of masters) {
      for await (const page of scanPages(guard, send, pattern, count, 'deletePattern')) {
        if (failure) throw failure.error
        if (page.length === 0) continue
        const job: Promise<void> = guard
          .call('deletePattern', (d) => remove(d, send, page), RETHROW)
          .then(
            (n) => {
              deleted += n
              inFlight.delete(job)
            },
            (error: unknown) => {
              failure ??= { error }
              inFlight.delete(job)
            },
          )
        inFlight.add(job)
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
      }
    }
  } finally {
    await Promise.all(inFlight)
  }
  if (failure) throw failure.error
  return deleted
}
