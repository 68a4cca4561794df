export type { MemoryStoreOptions, MutationPolicy } from './options.js'
export { MemoryStore, memoryStore } from './store.js'
