import { afterEach, beforeEach, describe, it } from 'vitest'
import { memoryStore } from '../../../src/index.js'
import { runStoreConformance } from '../../../src/testing/index.js'
import { bytesMapStoreWithTtl } from '../../support/bytes-store.js'

const api = { describe, it, beforeEach, afterEach }

runStoreConformance(api, { name: 'memory (freeze)', createStore: () => memoryStore() })
runStoreConformance(api, { name: 'memory (clone)', createStore: () => memoryStore({ mutation: 'clone' }) })
runStoreConformance(api, {
  name: 'memory (reference)',
  createStore: () => memoryStore({ mutation: 'reference' }),
})
runStoreConformance(api, {
  name: 'bytes map (core only, codec path)',
  createStore: () => bytesMapStoreWithTtl(),
})
