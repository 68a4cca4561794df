// Internal door: what code outside tiers/ uses from it. Never in package.json "exports".

export type { BusListener, Invalidation, InvalidationBus, MemoryBus } from './bus.js'
export { memoryBus } from './bus.js'
export { FallbackStore } from './fallback-store.js'
export type { TierReads } from './tiered-store.js'
export { TieredStore } from './tiered-store.js'
