import type { Clock } from '../internal/index.js'

/** How lockouts grow; `ms` -1 is a permanent lockout. Sorted by `failures`, ascending. */
export interface GuardConfig {
  readonly tiers: readonly { readonly failures: number; readonly ms: number }[]
  /** Failures are forgotten when a lockout ends (no tiers) or kept to climb the tiers. */
  readonly resetOnExpiry: boolean
  /** A failure reported during a lockout restarts it. */
  readonly extend: boolean
  /** How long a `check` reservation waits for its `fail` or `succeed`. */
  readonly reserveMs: number
  /** How long a record outlives its last failure; -1 for ever. */
  readonly forgetMs: number
}

/**
 * `check` reserves, `fail` turns a reservation into a failure, `succeed`/`reset` forget the
 * records, `unlock` ends a lockout as if it had expired now (tiers keep their failures).
 */
export type GuardOp = 'check' | 'fail' | 'succeed' | 'unlock'

export interface GuardReply {
  /** check: refused; fail: locked out after this failure. */
  readonly locked: boolean
  /** -1 means permanent. */
  readonly retryMs: number
  /** fail: indexes of the keys this failure locked; unlock: of the keys that were locked. */
  readonly newly: readonly number[]
  readonly failures: number
  /** check: refused because reservations in flight already fill the allowance. */
  readonly busy: boolean
  /** check/fail: refused because the in-memory guard is full of lockouts. */
  readonly full?: boolean
}

/** Guard records for several lock keys, changed together in one atomic step. */
export interface GuardBackend {
  run(op: GuardOp, keys: readonly string[], config: GuardConfig): Promise<GuardReply>
}

interface GuardRecord {
  f: number
  u: number
  p: number[]
  /** Absolute expiry; null never. */
  exp: number | null
}

export const threshold = (c: GuardConfig, f: number) => c.tiers.find((t) => t.failures > f)?.failures ?? f + 1
export const duration = (c: GuardConfig, f: number) => {
  let ms = c.tiers[0]?.ms ?? 0
  for (const t of c.tiers) if (t.failures <= f) ms = t.ms
  return ms
}
const isLocked = (u: number, now: number) => u === -1 || u > now
const maxRetry = (a: number, b: number) => (a === -1 || b === -1 ? -1 : Math.max(a, b))

/**
 * The in-process records of every guard on one store. Locked records live apart from the others
 * and are never evicted: when the table is full, the least recently used unlocked record goes, and
 * when every record is a lockout, a new identity is refused (fail closed) rather than a lockout
 * forgotten. 100,000 failures on throwaway usernames cannot free anyone.
 */
export class GuardTable {
  readonly #unlocked = new Map<string, GuardRecord>()
  readonly #locked = new Map<string, GuardRecord>()
  evictions = 0
  refused = 0
  #lastSweep = 0

  constructor(readonly maxRecords: number) {}

  get size(): number {
    return this.#unlocked.size + this.#locked.size
  }

  get(key: string, now: number): GuardRecord | undefined {
    const record = this.#unlocked.get(key) ?? this.#locked.get(key)
    if (record !== undefined && record.exp !== null && record.exp <= now) {
      this.delete(key)
      return undefined
    }
    return record
  }

  delete(key: string): void {
    this.#unlocked.delete(key)
    this.#locked.delete(key)
  }

  /** Room for `count` new records; false when only lockouts are left to make it (nothing changes). */
  makeRoom(count: number, now: number): { ok: boolean; evicted: number } {
    let evicted = 0
    if (this.size + count <= this.maxRecords) return { ok: true, evicted }
    this.#sweep(now)
    while (this.size + count > this.maxRecords) {
      const oldest = this.#unlocked.keys().next()
      if (oldest.done) {
        this.refused++
        return { ok: false, evicted }
      }
      this.#unlocked.delete(oldest.value)
      this.evictions++
      evicted++
    }
    return { ok: true, evicted }
  }

  save(key: string, record: GuardRecord, now: number): void {
    this.delete(key)
    if (record.f === 0 && record.u === 0 && record.p.length === 0) return
    ;(isLocked(record.u, now) ? this.#locked : this.#unlocked).set(key, record)
  }

  /** Lockouts that ended move back among the evictable records; at most once a second. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 1000) return
    this.#lastSweep = now
    for (const [key, record] of this.#locked) {
      if (record.exp !== null && record.exp <= now) this.#locked.delete(key)
      else if (!isLocked(record.u, now)) {
        this.#locked.delete(key)
        this.#unlocked.set(key, record)
      }
    }
  }
}

/** The guard logic in process; `GUARD_SCRIPT` is the same, step by step, in Lua. */
export class MemoryGuardBackend implements GuardBackend {
  constructor(
    readonly table: GuardTable,
    readonly clock: Clock,
    readonly onEvict: (evicted: number) => void = () => {},
  ) {}

  async run(op: GuardOp, keys: readonly string[], c: GuardConfig): Promise<GuardReply> {
    const now = Math.floor(this.clock.now())
    const none = { locked: false, retryMs: 0, newly: [], failures: 0, busy: false }
    if (op === 'succeed') {
      for (const key of keys) this.table.delete(key)
      return none
    }
    const stored = keys.map((key) => this.table.get(key, now))
    const records = stored.map((r) => this.#load(r, now, c))
    if (op === 'unlock') {
      const newly: number[] = []
      for (const [i, r] of records.entries()) {
        if (!isLocked(r.u, now)) continue
        newly.push(i)
        r.u = 0
        if (c.resetOnExpiry) r.f = 0
        this.#save(keys[i] as string, r, now, c)
      }
      return { ...none, newly }
    }
    let locked = false
    let busy = false
    let retry = 0
    const newly: number[] = []
    let failures = 0
    if (op === 'check') {
      for (const r of records) {
        if (isLocked(r.u, now)) {
          locked = true
          retry = maxRetry(retry, r.u === -1 ? -1 : r.u - now)
        } else if (r.f + r.p.length >= threshold(c, r.f)) {
          busy = true
          retry = maxRetry(retry, Math.min(...r.p) - now)
        }
        failures = Math.max(failures, r.f)
      }
      if (locked || busy) return { locked: true, retryMs: retry, newly, failures, busy: !locked }
      const room = this.table.makeRoom(stored.filter((r) => r === undefined).length, now)
      if (room.evicted > 0) this.onEvict(room.evicted)
      if (!room.ok) return { locked: true, retryMs: 1000, newly, failures, busy: false, full: true }
      for (const r of records) r.p.push(now + c.reserveMs)
    } else {
      const room = this.table.makeRoom(stored.filter((r) => r === undefined).length, now)
      if (room.evicted > 0) this.onEvict(room.evicted)
      if (!room.ok) return { locked: true, retryMs: 1000, newly, failures, busy: false, full: true }
      for (const [i, r] of records.entries()) {
        r.p.sort((a, b) => a - b).shift()
        const was = isLocked(r.u, now)
        const before = r.f
        r.f += 1
        const ms = duration(c, r.f)
        if (was) {
          if (c.extend && r.u !== -1) r.u = ms === -1 ? -1 : Math.max(r.u, now + ms)
        } else if (r.f >= threshold(c, before)) {
          r.u = ms === -1 ? -1 : now + ms
          newly.push(i)
        }
        if (isLocked(r.u, now)) {
          locked = true
          retry = maxRetry(retry, r.u === -1 ? -1 : r.u - now)
        }
        failures = Math.max(failures, r.f)
      }
    }
    for (const [i, key] of keys.entries()) this.#save(key, records[i] as GuardRecord, now, c)
    return { locked, retryMs: retry, newly, failures, busy: false }
  }

  #load(stored: GuardRecord | undefined, now: number, c: GuardConfig): GuardRecord {
    let f = stored?.f ?? 0
    let u = stored?.u ?? 0
    if (u > 0 && u <= now) {
      u = 0
      if (c.resetOnExpiry) f = 0
    }
    return { f, u, p: (stored?.p ?? []).filter((x) => x > now), exp: null }
  }

  #save(key: string, r: GuardRecord, now: number, c: GuardConfig): void {
    const ttl =
      r.u === -1 || c.forgetMs === -1 ? null : Math.max(1, r.u - now, c.forgetMs, ...r.p.map((x) => x - now))
    this.table.save(key, { f: r.f, u: r.u, p: r.p, exp: ttl === null ? null : now + ttl }, now)
  }
}
