import type { Store } from '../stores/index.js'
import type { SessionBackend, SessionWrite, StoredSession, WriteOutcome } from './backend.js'

/** A session as the memory store keeps it: plain data, replaced (never mutated) on every change. */
interface Record {
  readonly dead: boolean
  readonly touchedAt: number
  readonly user: string | null
  readonly indexedAt: number
  readonly fields: { readonly [field: string]: string }
}

interface Index {
  readonly members: { readonly [member: string]: number }
}

/**
 * Sessions on the memory store. Its methods answer synchronously, so each step below (read, check
 * the tombstone, write) runs within one turn of the event loop: no other request of this process
 * can come between, which is what the Redis scripts get from Redis running one script at a time.
 */
export function memoryBackend(store: Store): SessionBackend {
  const read = <T>(key: string): T | undefined => store.get(key) as T | undefined
  const put = (key: string, value: Record | Index, ttl: number): void => {
    store.set(key, value, { ttl })
  }

  return {
    load(key) {
      const rec = read<Record>(key)
      if (rec === undefined || rec.dead) return Promise.resolve(undefined)
      const stored: StoredSession = {
        fields: new Map(Object.entries(rec.fields)),
        touchedAt: rec.touchedAt,
        user: rec.user ?? undefined,
        indexedAt: rec.indexedAt,
      }
      return Promise.resolve(stored)
    },

    write(key, mode, w: SessionWrite, now, ttl) {
      const rec = read<Record>(key)
      if (rec?.dead) return Promise.resolve<WriteOutcome>('destroyed')
      if (mode === 'merge' && rec === undefined) return Promise.resolve<WriteOutcome>('missing')
      const fields: { [field: string]: string } = mode === 'merge' && rec ? { ...rec.fields } : {}
      for (const [field, json] of w.set) fields[field] = json
      for (const field of w.remove) delete fields[field]
      const indexedAt = w.indexed ? now : (rec?.indexedAt ?? 0)
      put(
        key,
        {
          dead: false,
          touchedAt: now,
          user: w.user === undefined ? (rec?.user ?? null) : w.user,
          indexedAt,
          fields,
        },
        ttl,
      )
      return Promise.resolve<WriteOutcome>('written')
    },

    touch(key, set, indexed, now, ttl) {
      const rec = read<Record>(key)
      if (rec === undefined) return Promise.resolve<WriteOutcome>('missing')
      if (rec.dead) return Promise.resolve<WriteOutcome>('destroyed')
      const fields = { ...rec.fields, ...Object.fromEntries(set) }
      put(key, { ...rec, touchedAt: now, indexedAt: indexed ? now : rec.indexedAt, fields }, ttl)
      return Promise.resolve<WriteOutcome>('written')
    },

    destroy(key, ttl) {
      const rec = read<Record>(key)
      put(key, { dead: true, touchedAt: 0, user: null, indexedAt: 0, fields: {} }, ttl)
      return Promise.resolve(rec?.dead === false ? (rec.user ?? undefined) : undefined)
    },

    indexAdd(index, member, now, ttl) {
      const members = live(read<Index>(index), now, ttl)
      members[member] = now
      put(index, { members }, ttl)
      return Promise.resolve()
    },

    indexList(index, now, ttl) {
      return Promise.resolve(Object.keys(live(read<Index>(index), now, ttl)))
    },

    indexRemove(index, gone) {
      const current = read<Index>(index)
      if (current === undefined) return Promise.resolve()
      const members = { ...current.members }
      for (const member of gone) delete members[member]
      const left = store.ttl?.(index)
      // Keep the index's own expiry: it lives as long as its freshest member.
      const ttl = typeof left === 'number' && left > 0 ? left : null
      if (Object.keys(members).length === 0) store.delete(index)
      else store.set(index, { members }, { ttl })
      return Promise.resolve()
    },
  }
}

/** The members active within the last `ttl` ms (the others' sessions have expired). */
function live(index: Index | undefined, now: number, ttl: number): { [member: string]: number } {
  const out: { [member: string]: number } = {}
  for (const [member, at] of Object.entries(index?.members ?? {})) if (at > now - ttl) out[member] = at
  return out
}
