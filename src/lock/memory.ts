import type { Clock } from '../internal/index.js'
import type { Attempt, LockBackend } from './types.js'

interface Held {
  readonly token: number
  expiresAt: number
}

/** Lock state of one memory store: every `createLocks` on that store shares it. */
interface MemoryLockState {
  readonly held: Map<string, Held>
  /** Last token per key; never dropped, and floored by the clock, so tokens also grow across restarts. */
  readonly fences: Map<string, number>
  readonly listeners: Set<(key: string) => void>
}

const states = new WeakMap<object, MemoryLockState>()

/**
 * Locks in this process, with the same semantics as the Redis version: an expired lock is free
 * (judged by `clock` when next touched, no timer per lock), only the token's holder releases or
 * extends it, and tokens per name only grow. The store object is only the key of the shared state.
 */
export function memoryLockBackend(store: object, clock: Clock): LockBackend {
  let state = states.get(store)
  if (state === undefined) {
    state = { held: new Map(), fences: new Map(), listeners: new Set() }
    states.set(store, state)
  }
  const { held, fences, listeners } = state
  const live = (key: string): Held | undefined => {
    const entry = held.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > clock.now()) return entry
    held.delete(key)
    return undefined
  }
  return {
    shared: false,
    tryAcquire(key, ttl) {
      const current = live(key)
      if (current) return Promise.resolve<Attempt>({ heldFor: current.expiresAt - clock.now() })
      // As on Redis: the last token + 1, or the time in microseconds if that is larger.
      const token = Math.max((fences.get(key) ?? 0) + 1, Math.floor(clock.now() * 1000))
      fences.set(key, token)
      held.set(key, { token, expiresAt: clock.now() + ttl })
      return Promise.resolve<Attempt>({ token })
    },
    release(key, token) {
      const current = live(key)
      if (current?.token !== token) return Promise.resolve(false)
      held.delete(key)
      // Like a pub/sub message: delivered after the releasing call returns.
      queueMicrotask(() => {
        for (const listener of listeners) listener(key)
      })
      return Promise.resolve(true)
    },
    extend(key, token, ttl) {
      const current = live(key)
      if (current?.token !== token) return Promise.resolve(false)
      current.expiresAt = clock.now() + ttl
      return Promise.resolve(true)
    },
    subscribe(listener) {
      listeners.add(listener)
      return Promise.resolve(async () => {
        listeners.delete(listener)
      })
    },
  }
}
