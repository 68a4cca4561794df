import { releaseStore } from '../stores/index.js'
import type { Shared } from './shared.js'

/** How long `close()` waits for owed work (writes, refreshes, lease releases) before giving up on it. */
export const CLOSE_WAIT_MS = 1000
/** How long `close()` then waits for the lease releases of the flights it gave up. */
const CLOSE_RELEASE_MS = 300

/**
 * Closes a root cache's shared state: finishes what it owes the store, at most
 * {@link CLOSE_WAIT_MS}; then gives up factories still running (their leases are released) and
 * releases the store, which closes once no other cache uses it.
 */
export async function closeShared(shared: Shared): Promise<void> {
  shared.closed = true
  await settleOwed(shared, CLOSE_WAIT_MS)
  for (const giveUp of [...shared.abandon]) giveUp()
  await settleOwed(shared, CLOSE_RELEASE_MS)
  await releaseStore(shared.original)
}

/** Waits until the owed work settles (including work it starts meanwhile), at most `ms`. */
async function settleOwed(shared: Shared, ms: number): Promise<void> {
  if (shared.owed.size === 0) return
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  const drained = (async () => {
    while (shared.owed.size > 0) await Promise.allSettled([...shared.owed])
  })()
  await Promise.race([drained, limit])
  clearTimeout(timer)
}
