import type { Store } from './types.js'

/**
 * Stores shared between caches (and tiers) are counted: a store closes when the last cache using
 * it closes, so closing one cache never breaks another built on the same store.
 */
const storeUsers = new WeakMap<Store, number>()

export function acquireStore(store: Store): void {
  storeUsers.set(store, (storeUsers.get(store) ?? 0) + 1)
}

export async function releaseStore(store: Store): Promise<void> {
  const users = (storeUsers.get(store) ?? 1) - 1
  storeUsers.set(store, users)
  if (users <= 0) {
    storeUsers.delete(store)
    await store.close()
  }
}
