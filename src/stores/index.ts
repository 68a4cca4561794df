// Internal door: what code outside stores/ uses from it. Never in package.json "exports".

export type { Backing, StateAccess, StateUpdate, StateUpdateOptions, StateWrite } from './backing.js'
export { BACKING, backingOf, backingThrough } from './backing.js'
export { completeStore } from './complete.js'
export { acquireStore, releaseStore } from './lifecycle.js'
export type {
  CompleteStore,
  ScopedAccess,
  Store,
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreLeases,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from './types.js'
