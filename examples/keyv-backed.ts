/**
 * A Keyv instance (any adapter: SQLite here) as a cachekit store.
 *
 *   npx tsx examples/keyv-backed.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import KeyvSqlite from '@keyv/sqlite'
import { createCache } from 'cachekit'
import { keyvBackedStore } from 'cachekit/keyv'
import Keyv from 'keyv'

const dir = mkdtempSync(join(tmpdir(), 'cachekit-keyv-'))
const keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${join(dir, 'cache.sqlite')}` }) })
const store = keyvBackedStore(keyv)
console.log('store', store.name, 'capabilities', store.capabilities)

const cache = createCache({ store, prefix: 'app', ttl: '5m' })
let builds = 0
const build = () => ({ built: ++builds, at: new Date(0), roles: new Set(['admin']) })
console.log('first getOrSet  ->', await cache.getOrSet('settings', build))
console.log('second getOrSet ->', await cache.getOrSet('settings', build), `(factory ran ${builds} time)`)
console.log('ttl left (ms)   ->', await cache.ttl('settings'))
console.log('deletePattern   ->', await cache.deletePattern('*'))
console.log('stats           ->', { hits: cache.stats().hits, misses: cache.stats().misses })

await cache.close()
await keyv.disconnect()
rmSync(dir, { recursive: true, force: true })
