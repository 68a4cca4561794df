import { InvalidOptionError } from '../errors.js'
import type { Clock, ScriptRunner } from '../internal/index.js'
import { backingOf } from '../stores/index.js'
import { MemoryStore } from '../stores/memory/index.js'
import type { State } from './algorithms/index.js'
import { ProtectionStoreUnsupportedError } from './errors.js'
import type { Policy } from './rules.js'

export { type Script, type ScriptRunner, script } from '../internal/index.js'

interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>
}
interface NodeRedisCluster {
  sendCommand(key: string | undefined, readonly: boolean | undefined, args: string[]): Promise<unknown>
  readonly masters: unknown
}
interface IoRedisClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && /^NOSCRIPT/.test(error.message)
}

/**
 * Wraps a node-redis client or cluster (or an ioredis client) as a {@link ScriptRunner}: EVALSHA,
 * and EVAL once when the server has lost the script (restart, failover, SCRIPT FLUSH).
 */
export function scriptRunnerFromClient(client: unknown): ScriptRunner {
  if (client === null || typeof client !== 'object') {
    throw new InvalidOptionError('scriptRunnerFromClient needs a node-redis or ioredis client')
  }
  let send: (args: string[], route: string | undefined) => Promise<unknown>
  const c = client as Partial<NodeRedisClient & NodeRedisCluster & IoRedisClient>
  if ('masters' in c && typeof c.sendCommand === 'function') {
    const cluster = client as NodeRedisCluster
    send = (args, route) => cluster.sendCommand(route, false, args)
  } else if (typeof c.sendCommand === 'function') {
    const single = client as NodeRedisClient
    send = (args) => single.sendCommand(args)
  } else if (typeof c.call === 'function') {
    const io = client as IoRedisClient
    send = (args) => io.call(args[0] as string, ...args.slice(1))
  } else {
    throw new InvalidOptionError(
      'scriptRunnerFromClient needs a node-redis client/cluster or an ioredis client',
    )
  }
  return {
    // node-redis clusters have `masters`, ioredis clusters `isCluster`: their calls stay in one slot.
    anySlot: !('masters' in c) && (c as { isCluster?: unknown }).isCluster !== true,
    async run(script, keys, args) {
      const tail = [String(keys.length), ...keys, ...args.map(String)]
      try {
        return await send(['EVALSHA', script.sha, ...tail], keys[0])
      } catch (error) {
        if (!isNoScript(error)) throw error
        return send(['EVAL', script.source, ...tail], keys[0])
      }
    },
  }
}

export function isScriptRunner(value: unknown): value is ScriptRunner {
  return value !== null && typeof value === 'object' && typeof (value as ScriptRunner).run === 'function'
}

/** In-process state with TTLs: a cachekit MemoryStore (shared with whoever else uses it) or a private one. */
export interface StateMap {
  get(key: string): unknown
  set(key: string, value: unknown, ttlMs: number | null): void
  delete(key: string): void
}

export function stateMapOf(store: MemoryStore): StateMap {
  return {
    get: (key) => store.get(key),
    set: (key, value, ttlMs) => store.set(key, value, { ttl: ttlMs }),
    delete: (key) => {
      store.delete(key)
    },
  }
}

/** A private in-process map (the `'local'` failure policy and tests). */
export function privateStateMap(clock: Clock, maxEntries = 100_000): StateMap {
  return stateMapOf(new MemoryStore({ maxEntries, clock, mutation: 'reference' }))
}

/** Where request-protection state lives: in this process, or in Redis through a script runner. */
export type Backing =
  | {
      readonly kind: 'memory'
      readonly map: StateMap
      /** The store the map lives in (or a fresh object for a private map): state shared per owner. */
      readonly owner: object
    }
  | {
      readonly kind: 'redis'
      readonly runner: ScriptRunner
      readonly channel?: PubSubChannel | undefined
      /** The store's `ready()`, when it has one: resolves once its first connection is made. */
      readonly ready?: (() => Promise<void>) | undefined
      /**
       * A store that makes its own connection (so it may still be connecting); false for a
       * {@link ScriptRunner} passed in, whose client the caller connected.
       */
      readonly connecting?: boolean
    }

/** A pub/sub channel, when the store offers one (`RedisStore.channel`): shares deny caches. */
export interface PubSubChannel {
  publish(message: string): Promise<void>
  subscribe(listener: (message: string) => void): Promise<() => Promise<void>>
}

/**
 * Accepts a cachekit MemoryStore, anything with a `scriptRunner()` method (the cachekit RedisStore),
 * a cache or tiers built on one, or a {@link ScriptRunner}. Stores are recognised by what they
 * declare (`BACKING`), never by class: a cache stands for the store it was built on, tiers for
 * their shared (second) tier, whichever copy of cachekit made them.
 */
export function resolveBacking(store: unknown, what: string, clock: Clock): Backing {
  if (store === undefined) return { kind: 'memory', map: privateStateMap(clock), owner: {} }
  const declared = backingOf(store)
  if (declared?.kind === 'memory')
    return { kind: 'memory', map: stateMapOf(declared.store), owner: declared.store }
  const target = declared?.store ?? store
  if (declared?.kind !== 'sql' && target !== null && typeof target === 'object') {
    const withRunner = target as { scriptRunner?: unknown; channel?: unknown; ready?: unknown }
    if (typeof withRunner.scriptRunner === 'function') {
      const runner: unknown = (withRunner.scriptRunner as () => unknown).call(target)
      const channel =
        typeof withRunner.channel === 'function'
          ? (name: string) => (withRunner.channel as (name: string) => PubSubChannel).call(target, name)
          : undefined
      const ready =
        typeof withRunner.ready === 'function'
          ? () => (withRunner.ready as () => Promise<void>).call(target)
          : undefined
      if (isScriptRunner(runner)) {
        return { kind: 'redis', runner, channel: channel?.('cachekit:rl:deny'), ready, connecting: true }
      }
    }
    if (isScriptRunner(store)) return { kind: 'redis', runner: store }
  }
  const name = declared?.store.name ?? storeName(store)
  if (declared?.kind === 'sql') {
    throw new ProtectionStoreUnsupportedError(
      `${what} cannot keep its state in a SQL store ("${name}") yet: use memoryStore() for one process or redisStore() for many (createRateLimiter does accept SQL stores)`,
    )
  }
  if (name !== undefined) {
    throw new ProtectionStoreUnsupportedError(
      `${what} cannot keep its state in the "${name}" store: its counters need atomic scripts; use memoryStore() for one process, redisStore() for many, or a cache built on either`,
    )
  }
  throw new InvalidOptionError(
    `${what} store must be a cachekit MemoryStore, a store with scriptRunner() (the Redis store), a cache built on one, or a ScriptRunner (scriptRunnerFromClient(redisClient))`,
  )
}

/** The name of something shaped like a store (a `name` and `capabilities`), else undefined. */
function storeName(value: unknown): string | undefined {
  const s = value as { name?: unknown; capabilities?: unknown } | null
  return typeof s === 'object' &&
    s !== null &&
    typeof s.name === 'string' &&
    typeof s.capabilities === 'object'
    ? s.name
    : undefined
}

/** One policy's outcome, as both backends report it. */
export interface PolicyOutcome {
  readonly allowed: boolean
  readonly remaining: number
  readonly resetMs: number
  readonly retryAfterMs: number
  /** Refused because the policy's `blockFor` is in force. */
  readonly blocked: boolean
}

export type Mode = 'consume' | 'peek'

/** The rate limiter's storage side: every decision of one request in one atomic step. */
export interface RateBackend {
  decide(base: string, policies: readonly Policy[], cost: number, mode: Mode): Promise<PolicyOutcome[]>
  reset(base: string, policies: readonly Policy[]): Promise<void>
}

export function stateKey(base: string, index: number, policy: Policy, code: string): string {
  return `${base}:${index}${code}${policy.windowMs}`
}

export function blockKey(base: string, index: number): string {
  return `${base}:${index}b`
}

export function asState(value: unknown): State {
  return Array.isArray(value) ? (value as number[]) : []
}
