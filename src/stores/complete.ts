import { InvalidOptionError, NotAnIntegerError, UnsupportedOperationError } from '../errors.js'
import { describe, whenResolved } from '../internal/index.js'
import type { CompleteStore, Store, StoreEntry, StoreWrite, StoreWriteOptions } from './types.js'

/**
 * Returns a store with every method of the contract: the store's own where it has them, generic
 * ones built on its core where it does not. The generic `add`, `incr` and `touch` read then write,
 * so they are atomic only inside one process; stores with shared state implement their own.
 */
export function completeStore(store: Store): CompleteStore {
  assertStore(store)
  const s = store
  const unsupported = (what: string) => () => {
    throw new UnsupportedOperationError(`The ${s.name} store does not support ${what}`)
  }

  const ttl =
    s.ttl?.bind(s) ??
    (s.getEntry
      ? (key: string) =>
          whenResolved(s.getEntry!(key), (entry) => (entry ? remaining(entry.expiresAt) : undefined))
      : unsupported('ttl()'))
  const getEntry =
    s.getEntry?.bind(s) ??
    (async (key: string): Promise<StoreEntry | undefined> => {
      const value = await s.get(key)
      if (value === undefined) return undefined
      const left = await ttl(key)
      return { value, expiresAt: left === null || left === undefined ? null : Date.now() + left }
    })
  const has = s.has?.bind(s) ?? ((key: string) => whenResolved(s.get(key), (value) => value !== undefined))

  return {
    name: s.name,
    capabilities: s.capabilities,
    get: s.get.bind(s),
    set: s.set.bind(s),
    delete: s.delete.bind(s),
    keys: s.keys.bind(s),
    close: s.close.bind(s),
    ...(s.leases ? { leases: s.leases.bind(s) } : {}),
    ...(s.available ? { available: s.available.bind(s) } : {}),
    ...(s.ready ? { ready: s.ready.bind(s) } : {}),
    ...(s.scoped ? { scoped: s.scoped.bind(s) } : {}),
    getEntry,
    has,
    ttl,
    add:
      s.add?.bind(s) ??
      (async (key: string, value: unknown, options: StoreWriteOptions) => {
        if (await has(key)) return false
        await s.set(key, value, options)
        return true
      }),
    getMany: s.getMany?.bind(s) ?? ((keys: readonly string[]) => Promise.all(keys.map((key) => s.get(key)))),
    setMany:
      s.setMany?.bind(s) ??
      (async (writes: readonly StoreWrite[]) => {
        for (const write of writes) await s.set(write.key, write.value, write)
      }),
    deleteMany:
      s.deleteMany?.bind(s) ??
      (async (keys: readonly string[]) => {
        const results = await Promise.all(keys.map((key) => s.delete(key)))
        return results.filter(Boolean).length
      }),
    incr:
      s.incr?.bind(s) ??
      (async (key: string, delta: number, options: StoreWriteOptions) => {
        const entry = await getEntry(key)
        const current = entry === undefined ? 0 : integerOf(entry.value)
        const next = current + delta
        if (!Number.isSafeInteger(next)) {
          throw new NotAnIntegerError(`Cannot increment: ${current} + ${delta} leaves the safe integer range`)
        }
        const left = entry ? remaining(entry.expiresAt) : options.ttl
        const value = s.capabilities.valueKind === 'bytes' ? Buffer.from(String(next), 'latin1') : next
        await s.set(key, value, { ttl: left === null ? null : Math.max(1, left) })
        return next
      }),
    touch:
      s.touch?.bind(s) ??
      (async (key: string, newTtl: number | null) => {
        const value = await s.get(key)
        if (value === undefined) return false
        await s.set(key, value, { ttl: newTtl })
        return true
      }),
    deletePattern:
      s.deletePattern?.bind(s) ??
      (async (pattern: string) => {
        let deleted = 0
        for await (const key of s.keys(pattern)) if (await s.delete(key)) deleted++
        return deleted
      }),
    deleteByTag: s.deleteByTag?.bind(s) ?? unsupported('tags (deleteByTag)'),
    expireByTag: s.expireByTag?.bind(s) ?? unsupported('expireByTag'),
    stats: s.stats?.bind(s) ?? (() => ({})),
  }
}

function remaining(expiresAt: number | null): number | null {
  return expiresAt === null ? null : Math.max(0, expiresAt - Date.now())
}

function integerOf(value: unknown): number {
  const n =
    typeof value === 'number'
      ? value
      : value instanceof Uint8Array && /^-?\d+$/.test(Buffer.from(value).toString('latin1'))
        ? Number(Buffer.from(value).toString('latin1'))
        : Number.NaN
  if (!Number.isSafeInteger(n)) {
    throw new NotAnIntegerError(
      'Cannot increment: the stored value is not an integer; set it to a number first',
    )
  }
  return n
}

function assertStore(store: unknown): asserts store is Store {
  const s = store as Partial<Store> | null
  const missing = ['get', 'set', 'delete', 'keys', 'close'].filter(
    (method) => typeof (s as Record<string, unknown> | null)?.[method] !== 'function',
  )
  if (s === null || typeof s !== 'object' || missing.length > 0 || typeof s.capabilities !== 'object') {
    throw new InvalidOptionError(
      `store must be a cachekit store such as memoryStore() (got ${describe(store)}${missing.length ? `, missing ${missing.join(', ')}` : ''})`,
    )
  }
}
