import { randomUUID } from 'node:crypto'
import { CacheClosedError } from '../errors.js'
import { publishDegraded } from '../observe/index.js'
import type { StoreLeases } from '../stores/index.js'
import type { CacheContext } from './context.js'
import type { Plan } from './get-or-set.js'
import { owe } from './shared.js'

const noop = () => {}

/** First pause of a lease waiter between re-checks; it doubles up to {@link WAIT_MAX}. */
const WAIT_FIRST = 20
/** The longest pause between a lease waiter's re-checks: what one lost release message costs. */
const WAIT_MAX = 250

/**
 * Single flight across processes: take the key's lease and compute, or wait for the holder's word
 * (or a short back-off, in case that word is lost) and read what it stored. The lease lives at
 * most `hardTimeout`: a hung holder stops renewing and releases it then, so the others compute.
 * A waiter whose holder never ends (an older version, renewing forever) computes anyway after
 * `hardTimeout` plus one lease TTL. A store that cannot lease (Redis down) leaves per-process
 * single flight, which the caller already has.
 */
export async function acrossProcesses<T>(
  cache: CacheContext,
  key: string,
  full: string,
  leases: StoreLeases,
  plan: Plan,
  compute: () => Promise<T>,
  hooks: { onAbandon(release: () => void): void },
): Promise<T> {
  const { clock } = cache.shared
  const token = randomUUID()
  const leaseTtl = plan.lease as number
  const giveUpAt = clock.now() + plan.hardTimeout + leaseTtl
  let pause = WAIT_FIRST
  for (;;) {
    let acquired: boolean
    try {
      acquired = await leases.acquire(full, token, Math.min(leaseTtl, plan.hardTimeout))
    } catch (error) {
      // Single flight inside this process only, while the store cannot lease.
      cache.recordError('lease', key, error)
      publishDegraded({
        source: 'leases',
        kind: 'local-flight',
        operation: 'getOrSet',
        reason: error instanceof Error ? error.message : String(error),
      })
      return compute()
    }
    if (acquired) {
      // A holder that stored the value and released just before we asked leaves the lease free:
      // look once more, so its value is not computed twice.
      const stored = await readFresh(cache, key)
      if (stored === undefined) return hold(cache, full, leases, token, plan, compute, hooks)
      await leases.release(full, token).catch(noop)
      cache.counters.coalesced++
      cache.publish('coalesce', key)
      return stored.value as T
    }
    const waiting = leases.wait(full, pause)
    const early = await readFresh(cache, key)
    if (early) {
      waiting.cancel()
      return early.value as T
    }
    await waiting.done
    const filled = await readFresh(cache, key)
    if (filled) {
      cache.counters.coalesced++
      cache.publish('coalesce', key)
      return filled.value as T
    }
    // A closed cache computes nothing more: its callers were already answered.
    if (cache.isClosed()) throw new CacheClosedError('The cache was closed while waiting for a lease')
    if (clock.now() >= giveUpAt) {
      publishDegraded({ source: 'leases', kind: 'lease-wait-over', operation: 'getOrSet' })
      return compute()
    }
    pause = Math.min(pause * 2, WAIT_MAX)
  }
}

/** Computes under a held lease: renews it up to the cap, and releases it when done (owed to close). */
async function hold<T>(
  cache: CacheContext,
  full: string,
  leases: StoreLeases,
  token: string,
  plan: Plan,
  compute: () => Promise<T>,
  hooks: { onAbandon(release: () => void): void },
): Promise<T> {
  const { shared } = cache
  const leaseTtl = plan.lease as number
  const capAt = shared.clock.now() + plan.hardTimeout
  let released = false
  const release = () => {
    if (released) return
    released = true
    clearInterval(renewal)
    owe(shared, leases.release(full, token)).catch(noop)
  }
  const renewal = setInterval(
    () => {
      const left = capAt - shared.clock.now()
      if (left <= 0) release()
      else leases.renew(full, token, Math.min(leaseTtl, left)).catch(noop)
    },
    Math.max(1, Math.min(leaseTtl, plan.hardTimeout) / 3),
  )
  renewal.unref()
  hooks.onAbandon(release)
  try {
    return await compute()
  } finally {
    release()
  }
}

async function readFresh(cache: CacheContext, key: string): Promise<{ value: unknown } | undefined> {
  try {
    const read = await cache.read(key)
    return read.state === 'fresh' ? read : undefined
  } catch {
    return undefined
  }
}
