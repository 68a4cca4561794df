import type { StoreWriteOptions } from '../types.js'
import { counterKey, fingerprint, tagSetKey } from './bookkeeping.js'
import type { RedisDriver } from './driver.js'
import { DELETE_TAGGED, EXPIRE_TAGGED, MEMBERS, runScript, TAG } from './scripts.js'
import { batchesOf } from './slot.js'

/** Keys per DELETE_TAGGED call outside Cluster. */
const BATCH = 1000

/**
 * Tags in Redis: one hash per tag (`__cachekit:tag:<tag>`, see bookkeeping.ts) mapping its keys to
 * a fingerprint of the tagged value, written in the same round trip as the value and kept alive as
 * long as its longest-lived member.
 */
export async function addTags(
  d: RedisDriver,
  key: string,
  bytes: Buffer,
  tags: readonly string[],
  ttl: StoreWriteOptions['ttl'],
): Promise<void> {
  const sets = tags.map(tagSetKey)
  const args = [key, fingerprint(bytes), ttl === null ? '' : String(ttl)]
  // In Cluster each tag set may live on another node: one script call per set.
  if (d.topology === 'cluster') await Promise.all(sets.map((set) => runScript(d, TAG, [set], args)))
  else await runScript(d, TAG, sets, args)
}

/**
 * Removes every entry written with the tag: takes (reads and deletes) the tag's set in one step,
 * then deletes the keys whose values are still the ones that were tagged, so an entry rewritten
 * since without the tag survives. Resolves to how many were deleted.
 */
export async function deleteTagged(d: RedisDriver, tag: string): Promise<number> {
  const entries = pairs(await runScript(d, MEMBERS, [tagSetKey(tag)], ['take']))
  if (entries.length === 0) return 0
  const keys = entries.map((e) => e.key)
  const counts = await Promise.all(
    batchesOf(keys, d.topology === 'cluster', BATCH).map((batch) =>
      runScript(
        d,
        DELETE_TAGGED,
        withCounters(batch, keys),
        batch.map((i) => (entries[i] as { fingerprint: string }).fingerprint),
      ),
    ),
  )
  return counts.reduce((total: number, n) => total + Number(n), 0)
}

/**
 * Makes every entry written with the tag stale at `staleAt` (see EXPIRE_TAGGED), leaving the tag
 * set in place so a later `deleteByTag` still finds them. Resolves to how many it touched.
 */
export async function expireTagged(d: RedisDriver, tag: string, staleAt: number): Promise<number> {
  const entries = pairs(await runScript(d, MEMBERS, [tagSetKey(tag)], ['read']))
  if (entries.length === 0) return 0
  const keys = entries.map((e) => e.key)
  const at = Buffer.alloc(8)
  at.writeDoubleBE(staleAt)
  const counts = await Promise.all(
    batchesOf(keys, d.topology === 'cluster', BATCH).map((batch) =>
      runScript(d, EXPIRE_TAGGED, withCounters(batch, keys), [
        at,
        ...batch.map((i) => (entries[i] as { fingerprint: string }).fingerprint),
      ]),
    ),
  )
  return counts.reduce((total: number, n) => total + Number(n), 0)
}

/** MEMBERS's flat `key, fingerprint, ...` reply as entries. */
function pairs(reply: unknown): { key: string; fingerprint: string }[] {
  const flat = reply as Buffer[]
  const out: { key: string; fingerprint: string }[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ key: String(flat[i]), fingerprint: String(flat[i + 1]) })
  }
  return out
}

/** KEYS for DELETE_TAGGED/EXPIRE_TAGGED: each key then its counter key (the key again if none). */
function withCounters(batch: readonly number[], keys: readonly string[]): string[] {
  const out: string[] = []
  for (const i of batch) {
    const key = keys[i] as string
    out.push(key, counterKey(key) ?? key)
  }
  return out
}
