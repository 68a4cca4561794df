import type { RedisGuardBackend } from './guard-redis.js'

/**
 * One line of the lockout log, as django-axes keeps it: who was locked out, when, why and until
 * when, and every admin unlock or reset. Identities are normalised (the username as the guard
 * counts it, the canonical client IP); no password is ever logged.
 */
export interface LockoutLogEntry {
  /** `'lockout'`: failures locked a lock; `'unlock'` / `'reset'`: an admin call. */
  readonly kind: 'lockout' | 'unlock' | 'reset'
  /** When, epoch milliseconds. */
  readonly at: number
  /** The lock concerned, e.g. `username=alice&ip=203.0.113.7` (lockouts only). */
  readonly lock?: string | undefined
  readonly username?: string | undefined
  readonly ip?: string | undefined
  readonly userAgent?: string | undefined
  /** Failures counted when the lockout started. */
  readonly failures?: number | undefined
  /** When the lockout ends, epoch milliseconds; `null` for a permanent lockout. */
  readonly until?: number | null | undefined
  /** Why, in words: `'5 failed logins'`, or the admin's note. */
  readonly reason: string
  /** Who made an unlock or reset, as the admin page passed it. */
  readonly by?: string | undefined
  /** Unlock/reset: how many lock records it changed. */
  readonly records?: number | undefined
}

/** Where the log lives: a bounded array in process, or a capped Redis list shared by every instance. */
export interface LockoutLog {
  push(entry: LockoutLogEntry): Promise<void>
  /** Newest first. */
  read(limit: number): Promise<LockoutLogEntry[]>
}

export class MemoryLockoutLog implements LockoutLog {
  readonly #entries: LockoutLogEntry[] = []
  constructor(readonly size: number) {}

  async push(entry: LockoutLogEntry): Promise<void> {
    this.#entries.push(entry)
    if (this.#entries.length > this.size) this.#entries.splice(0, this.#entries.length - this.size)
  }

  async read(limit: number): Promise<LockoutLogEntry[]> {
    return this.#entries.slice(-limit).reverse()
  }
}

export class RedisLockoutLog implements LockoutLog {
  constructor(
    readonly backend: RedisGuardBackend,
    readonly key: string,
    readonly size: number,
  ) {}

  async push(entry: LockoutLogEntry): Promise<void> {
    await this.backend.pushLog(this.key, JSON.stringify(entry), this.size)
  }

  async read(limit: number): Promise<LockoutLogEntry[]> {
    const out: LockoutLogEntry[] = []
    for (const line of await this.backend.readLog(this.key, Math.min(limit, this.size))) {
      try {
        const entry = JSON.parse(line) as LockoutLogEntry
        if (entry && typeof entry.at === 'number' && typeof entry.kind === 'string') out.push(entry)
      } catch {
        // Not a line this guard wrote: skip it rather than break the admin page.
      }
    }
    return out
  }
}
