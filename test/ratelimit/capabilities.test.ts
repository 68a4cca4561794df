/**
 * Request protection recognises its store by what the store declares (`Symbol.for('cachekit.backing')`),
 * never by class: so `cachekit/ratelimit` loads no cache code, and a store made by a second copy
 * of cachekit in the same app is still recognised.
 */
import { readFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { geoIndex } from '../../src/geo/index.js'
import { createCache, type MemoryStore, memoryStore } from '../../src/index.js'
import { createLocks } from '../../src/lock/index.js'
import { channel } from '../../src/pubsub/index.js'
import {
  createLoginGuard,
  createOneTimeCodes,
  createRateLimiter,
  ProtectionStoreUnsupportedError,
} from '../../src/ratelimit/index.js'
import { BACKING } from '../../src/stores/backing.js'
import { sqlStore } from '../../src/stores/sql/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

/** The source files a module loads at run time, itself included (type-only imports are erased). */
function runtimeGraph(entry: string): string[] {
  const seen = new Set<string>()
  const walk = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    }).outputText
    for (const match of js.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? ''
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
    }
  }
  walk(resolve(root, entry))
  return [...seen].map((file) => relative(root, file))
}

const limiterOn = (store: unknown) =>
  createRateLimiter({ store: store as MemoryStore, rules: { login: '2/min' } })

describe('stores recognised by declared capabilities', () => {
  it('cachekit/ratelimit (and the other doors that take a store) load neither the cache core nor the tiers', () => {
    const loaded = runtimeGraph('src/ratelimit/index.ts')
    expect(loaded).toContain('src/ratelimit/limiter.ts')
    for (const door of ['ratelimit', 'lock', 'pubsub', 'geo', 'session']) {
      const core = runtimeGraph(`src/${door}/index.ts`).filter((file) => /^src\/(cache|tiers)\//.test(file))
      expect(core, door).toEqual([])
    }
  })

  it('recognises a memory store from a second copy of the module', async () => {
    const copy = '../../src/stores/memory/store.js?copy=2'
    const other = (await import(/* @vite-ignore */ copy)) as typeof import('../../src/stores/memory/store.js')
    const store = other.memoryStore()
    expect(store).not.toBeInstanceOf(memoryStore().constructor)
    const limiter = limiterOn(store)
    expect((await limiter.consume('login', 'ip')).allowed).toBe(true)
    expect((await limiter.consume('login', 'ip')).allowed).toBe(true)
    expect((await limiter.consume('login', 'ip')).allowed).toBe(false)
    // The state lives in that store: a second limiter on it sees it.
    expect((await limiterOn(store).peek('login', 'ip')).remaining).toBe(0)
  })

  it('locks, channels and geo indexes recognise it too, and a cache over it', async () => {
    const copy = '../../src/stores/memory/index.js?copy=3'
    const other = (await import(/* @vite-ignore */ copy)) as typeof import('../../src/stores/memory/store.js')
    const store = other.memoryStore()
    for (const given of [store, createCache({ store })]) {
      expect(createLocks({ store: given }).shared).toBe(false)
      const heard: string[] = []
      const news = channel<string>('news', { store: given })
      const off = await news.subscribe((message) => {
        heard.push(message)
      })
      await news.publish('hello')
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(heard).toEqual(['hello'])
      await off()
      const places = geoIndex('places', { store: given })
      await places.add('a', { lon: 2.35, lat: 48.85 })
      expect((await places.near({ lon: 2.35, lat: 48.85 }, 1000)).map((hit) => hit.id)).toEqual(['a'])
    }
  })

  it('recognises any object that declares its backing under the registered symbol', async () => {
    const store = memoryStore()
    const foreignCache = { [Symbol.for('cachekit.backing')]: () => ({ kind: 'memory', store }) }
    expect(Symbol.for('cachekit.backing')).toBe(BACKING)
    const limiter = limiterOn(foreignCache)
    await limiter.consume('login', 'ip')
    await limiter.consume('login', 'ip')
    expect((await limiterOn(store).peek('login', 'ip')).remaining).toBe(0)
  })

  it('a cache and tiers stand for their (shared) store', () => {
    const store = memoryStore()
    expect(createCache({ store })[BACKING]()).toEqual({ kind: 'memory', store })
    const l2 = memoryStore()
    const tiered = createCache({ tiers: [memoryStore(), l2] })
    expect(tiered[BACKING]()).toEqual({ kind: 'memory', store: l2 })
    expect(tiered.namespace('n')[BACKING]()).toEqual({ kind: 'memory', store: l2 })
  })

  it('takes a SQL store, a cache or tiers over one, for the rate limiter', async () => {
    const sql = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
    const cache = createCache({ store: sql })
    const tiered = createCache({
      tiers: [memoryStore(), sqlStore({ dialect: 'sqlite', filename: ':memory:' })],
    })
    for (const [i, store] of [sql, cache, tiered].entries()) {
      const limiter = createRateLimiter({ store, rules: { login: '2/min' }, onFailure: 'closed' })
      expect((await limiter.consume('login', `ip-${i}`)).allowed).toBe(true)
      expect((await limiter.consume('login', `ip-${i}`)).allowed).toBe(true)
      const third = await limiter.consume('login', `ip-${i}`)
      expect(third.allowed).toBe(false)
      expect(limiter.stats()).toMatchObject({ degraded: 0, errors: 0 })
      await limiter.close()
    }
    await cache.close()
    await tiered.close()
  })

  it('refuses a SQL backing declared without its state table (an older copy of cachekit)', () => {
    const sql = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
    const older = { [Symbol.for('cachekit.backing')]: () => ({ kind: 'sql', store: sql }) }
    expect(() => limiterOn(older)).toThrow(ProtectionStoreUnsupportedError)
  })

  it('refuses a SQL store for the login guard and one-time codes, with a typed error saying what to use', async () => {
    const sql = sqlStore({ dialect: 'sqlite', filename: ':memory:' })
    const cache = createCache({ store: sql })
    // @ts-expect-error the login guard cannot keep its state in a SQL store
    expect(() => createLoginGuard({ store: sql, failureLimit: 1, coolOff: '1m' })).toThrow(
      ProtectionStoreUnsupportedError,
    )
    const makers = [
      () => createLoginGuard({ store: cache, failureLimit: 1, coolOff: '1m' }),
      () => createOneTimeCodes({ store: cache, ttl: '5m', secret: 'test-secret-of-at-least-16-bytes' }),
    ]
    for (const make of makers) {
      let error: unknown
      try {
        make()
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(ProtectionStoreUnsupportedError)
      expect(error).toMatchObject({ code: 'E_PROTECTION_STORE_UNSUPPORTED' })
      expect((error as Error).message).toMatch(
        /cannot keep its state in a SQL store \("sqlite"\) yet: use memoryStore\(\) for one process or redisStore\(\) for many \(createRateLimiter does accept SQL stores\)/,
      )
    }
    await cache.close()
  })

  it('refuses something that is not a store as an invalid option', () => {
    expect(() => limiterOn({ nothing: true })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })
})
